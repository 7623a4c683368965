// Package fanout measures the ship fan-out (targets and figures in
// docs/performance.md): a fake chat API
// served over HTTP on the loopback interface that accepts one message per
// second per channel and answers 429 with Retry-After past it, a bot.Platform
// that posts to it, a seeder for N channels × M subscribed threads, and a
// harness that ships, waits until every thread has its reply and reports the
// time against the rate-limit lower bound, duplicates and losses. The
// harness runs the workers in this process (one or more replicas, each with
// its own store handle) or as child processes that it can SIGKILL mid-way.
//
// Run the benchmark with
//
//	go test -run '^$' -bench BenchmarkFanout -benchtime 1x ./bench/fanout
//
// (PostgreSQL variants need FEEDBACKBOT_TEST_DATABASE_URL).
//
// Allowed imports: bot, store, the standard library.
package fanout
