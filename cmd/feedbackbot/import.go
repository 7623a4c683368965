package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/web"
	"github.com/feedbackbot/feedbackbot/store"
)

const importUsage = "usage: feedbackbot import companies [flags] FILE.csv   (header name,domains,plan,mrr; domains separated by spaces)"

// parseImport reads "import companies [flags] FILE".
func (m *Main) parseImport(args []string) error {
	if len(args) == 0 || args[0] != "companies" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintln(m.Stdout, importUsage)
			return flag.ErrHelp
		}
		fmt.Fprintln(m.Stderr, importUsage)
		return errUsage
	}
	// The file may come before or after the flags.
	rest := args[1:]
	var file string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		file, rest = rest[0], rest[1:]
	}
	m.Config = DefaultConfig()
	fs, err := m.Config.load("import companies", rest, m.Getenv, m.Stderr, func(fs *flag.FlagSet) {
		fs.Usage = func() {
			fmt.Fprint(fs.Output(), importUsage+"\n\n")
			fs.PrintDefaults()
		}
	})
	if err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if file == "" {
		fmt.Fprintln(m.Stderr, importUsage)
		return errUsage
	}
	m.cmd, m.args = "import companies", []string{file}
	return nil
}

// importCompanies reads the CSV and upserts every company in one
// transaction: any bad row stops the import with its line number and
// nothing is written.
func (m *Main) importCompanies(ctx context.Context, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("import companies: %w", err)
	}
	defer f.Close()
	ins, lines, err := ParseCompaniesCSV(f)
	if err != nil {
		return fmt.Errorf("import companies: %s: %w", file, err)
	}
	db, err := store.Open(ctx, m.Config.DatabaseURL)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	created, updated, err := db.ImportCompanies(ctx, ins)
	var re *store.RowError
	if errors.As(err, &re) {
		return fmt.Errorf("import companies: %s line %d: %s Nothing was imported", file, lines[re.Row], bot.ErrorMessage(re.Err))
	}
	if err != nil {
		return fmt.Errorf("import companies: %w", err)
	}
	fmt.Fprintf(m.Stdout, "imported %d companies from %s: %d created, %d updated\n", created+updated, file, created, updated)
	return nil
}

// ParseCompaniesCSV reads companies from CSV with the header
// name,domains,plan,mrr (in any order; only name is required; domains are
// separated by spaces). It returns the companies and the line of each; a
// bad row is an error naming its line.
func ParseCompaniesCSV(r io.Reader) ([]bot.CompanyInput, []int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("the file is empty (expected the header name,domains,plan,mrr)")
	}
	if err != nil {
		return nil, nil, csvError(err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "name", "domains", "plan", "mrr":
		default:
			return nil, nil, fmt.Errorf("line 1: unknown column %q (expected name,domains,plan,mrr)", clipCSV(h))
		}
		if _, dup := col[h]; dup {
			return nil, nil, fmt.Errorf("line 1: column %q appears twice", h)
		}
		col[h] = i
	}
	if _, ok := col["name"]; !ok {
		return nil, nil, fmt.Errorf("line 1: the header has no name column (expected name,domains,plan,mrr)")
	}
	var ins []bot.CompanyInput
	var lines []int
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) (string, bool) {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return "", false
			}
			return strings.TrimSpace(rec[i]), true
		}
		if len(rec) > len(header) {
			return nil, nil, fmt.Errorf("line %d: %d fields, but the header has %d", line, len(rec), len(header))
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		in := bot.CompanyInput{}
		in.Name, _ = get("name")
		if in.Name == "" {
			return nil, nil, fmt.Errorf("line %d: the name is empty", line)
		}
		key := strings.ToLower(strings.Join(strings.Fields(in.Name), " "))
		if prev, dup := seen[key]; dup {
			return nil, nil, fmt.Errorf("line %d: company %q is already on line %d", line, clipCSV(in.Name), prev)
		}
		seen[key] = line
		if d, ok := get("domains"); ok {
			in.Domains = []string{}
			for _, f := range strings.Fields(d) {
				nd, ok := bot.NormalizeDomain(f)
				if !ok {
					return nil, nil, fmt.Errorf("line %d: %q is not a domain (expected something like example.com; separate domains with spaces)", line, clipCSV(f))
				}
				in.Domains = append(in.Domains, nd)
			}
		}
		if p, ok := get("plan"); ok {
			in.Plan = &p
		}
		if v, ok := get("mrr"); ok && v != "" {
			n, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimPrefix(v, "$"), ",", ""), 64)
			if err != nil {
				return nil, nil, fmt.Errorf("line %d: mrr %q is not a number", line, clipCSV(v))
			}
			c, err := web.MRRCents(n)
			if err != nil {
				return nil, nil, fmt.Errorf("line %d: %s", line, bot.ErrorMessage(err))
			}
			in.MRRCents = &c
		}
		ins = append(ins, in)
		lines = append(lines, line)
	}
	if len(ins) == 0 {
		return nil, nil, fmt.Errorf("no companies after the header")
	}
	return ins, lines, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %v", pe.Line, pe.Err)
	}
	return err
}

func clipCSV(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
