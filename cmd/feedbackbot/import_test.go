package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

func runImport(t *testing.T, dsn, csv string) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "companies.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := m.Execute(ctx, []string{"import", "companies", path, "--database-url", dsn})
	return out.String() + errOut.String(), err
}

func companyNames(t *testing.T, dsn string) []string {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cs, err := db.FindCompanies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}

func TestImportCompanies(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out, err := runImport(t, dsn, "name,domains,plan,mrr\nAcme,acme.com acme.io,enterprise,\"1,200.50\"\n\"Globex, Inc.\",globex.com,pro,300\nInitech,,,\n")
		if err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		if !strings.Contains(out, "imported 3 companies") || !strings.Contains(out, "3 created, 0 updated") {
			t.Errorf("output %q", out)
		}
		if got := companyNames(t, dsn); strings.Join(got, "|") != "Acme|Globex, Inc.|Initech" {
			t.Errorf("companies %v", got)
		}
		// Importing again updates by name.
		out, err = runImport(t, dsn, "mrr,name\n2000,acme\n")
		if err != nil || !strings.Contains(out, "0 created, 1 updated") {
			t.Errorf("reimport: %v %q", err, out)
		}
		db, _ := store.Open(context.Background(), dsn)
		cs, _ := db.FindCompanies(context.Background())
		db.Close()
		if cs[0].Name != "acme" || cs[0].MRRCents != 200000 || len(cs[0].Domains) != 2 || cs[0].Plan != "enterprise" {
			t.Errorf("acme after update: %+v", cs[0])
		}
	})
}

func TestImportCompanies_Errors(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	for _, tc := range []struct{ name, csv, want string }{
		{"BadDomain", "name,domains\nAcme,acme.com\nBeta,not_a domain!\n", "line 3: \"not_a\" is not a domain"},
		{"BadMRR", "name,mrr\nAcme,lots\n", "line 2: mrr \"lots\" is not a number"},
		{"NegativeMRR", "name,mrr\nAcme,-5\n", "line 2: mrr must be a number"},
		{"EmptyName", "name,plan\nAcme,pro\n,free\n", "line 3: the name is empty"},
		{"UnknownColumn", "name,revenue\nAcme,1\n", "line 1: unknown column \"revenue\""},
		{"NoName", "domains\nacme.com\n", "line 1: the header has no name column"},
		{"TooManyFields", "name,plan\nAcme,pro,extra\n", "line 2: 3 fields, but the header has 2"},
		{"DuplicateName", "name\nAcme\nACME\n", "line 3: company \"ACME\" is already on line 2"},
		{"Quote", "name\n\"Acme\n", "line 2"},
		{"Empty", "", "the file is empty"},
		{"DomainOfAnother", "name,domains\nAcme,acme.com\nBeta,beta.io\nGamma,acme.com\n", "line 4: Domain acme.com already belongs to company Acme. Nothing was imported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runImport(t, dsn, tc.csv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q\n%s", err, tc.want, out)
			}
			if got := companyNames(t, dsn); len(got) != 0 {
				t.Errorf("half imported: %v", got)
			}
		})
	}
}
