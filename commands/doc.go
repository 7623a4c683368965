// Package commands is the /feedback grammar shared by every platform: one
// parser (Parse), one table of verbs that also generates the help text, and
// one handler per verb that validates its input and then calls the engine.
//
// Allowed imports: bot and the standard library.
package commands
