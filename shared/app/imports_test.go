package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/domain"
	"github.com/pecplatform/pec/shared/fake"
)

const alboHeader = "CF;Nome;Cognome;Albo;Matricola;Data iscrizione;E-mail;PEC;CTU\n"

// alboLine is a good line of an albo CSV file for the member.
func alboLine(cf, nome, cognome string) string {
	return fmt.Sprintf("%s;%s;%s;TSRM;100;15/01/2020;%s@example.it;;no\n", cf, nome, cognome, strings.ToLower(nome))
}

func alboFile(lines ...string) []byte { return []byte(alboHeader + strings.Join(lines, "")) }

func TestImportFile_KeepsGoodLinesAndReportsTheOthers(t *testing.T) {
	f := newSvcFixture(t)
	f.enrol(t, asFI, "TSRM-FI", enrolment(luigi, "Luigi", "Verdi"))
	file := alboFile(
		alboLine(mario, "Mario", "Rossi"),                                                   // line 2
		alboLine("RSSMRA80A01H501A", "Mario", "Rossi"),                                      // line 3: wrong check character
		"RSSMRA85B02F205;Mario\n",                                                           // line 4
		alboLine(luigi, "Luigi", "Verdi"),                                                   // line 5: enrolled already
		alboLine(anna, "Anna", "Bianchi"),                                                   // line 6
		strings.Replace(alboLine(giulia, "Giulia", "Verdi"), "15/01/2020", "31/02/2020", 1), // line 7
	)
	res, err := f.svc.ImportFile(t.Context(), asFI, "TSRM-FI", file)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 2 || res.Existing != 1 {
		t.Errorf("created %d, existing %d; want 2 and 1", res.Created, res.Existing)
	}
	want := []app.Failure{{Line: 3, Code: "invalid_codice_fiscale", Field: "codiceFiscale"}, {Line: 4, Code: "wrong_field_count"},
		{Line: 7, Code: "invalid_data_iscrizione", Field: "dataIscrizione"}}
	if len(res.Failed) != len(want) {
		t.Fatalf("failed %+v", res.Failed)
	}
	for i, w := range want {
		if g := res.Failed[i]; g.Line != w.Line || g.Code != w.Code || g.Field != w.Field || g.Message == "" {
			t.Errorf("failure %d: %+v, want %+v", i, g, w)
		}
	}
	for _, cf := range []string{mario, anna} {
		if _, err := f.store.GetMember(t.Context(), "TSRM-FI", domain.CodiceFiscale(cf)); err != nil {
			t.Errorf("%s: %v", cf, err)
		}
	}
	if _, err := f.store.GetMember(t.Context(), "TSRM-FI", domain.CodiceFiscale(giulia)); !errors.Is(err, domain.ErrMemberNotFound) {
		t.Errorf("the line with a bad date enrolled Giulia: %v", err)
	}
}

func TestImportFile_HomonymsInOneFileGetDistinctAddresses(t *testing.T) {
	f := newSvcFixture(t)
	res, err := f.svc.ImportFile(t.Context(), asFI, "TSRM-FI", alboFile(
		alboLine(mario, "Mario", "Rossi"), alboLine(mario2, "Mario", "Rossi"), alboLine(mario3, "Mario", "Rossi")))
	if err != nil || res.Created != 3 {
		t.Fatalf("%+v, %v", res, err)
	}
	items, _, err := f.store.ListMailboxes(t.Context(), app.MailboxQuery{OrderID: "TSRM-FI", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mb := range items {
		got = append(got, mb.Address)
	}
	slices.Sort(got)
	if want := []string{"mario.rossi1@pec.tsrm.org", "mario.rossi2@pec.tsrm.org", "mario.rossi@pec.tsrm.org"}; !slices.Equal(got, want) {
		t.Errorf("addresses %v, want %v", got, want)
	}
}

func TestImportFile_OverTheLimitImportsNothing(t *testing.T) {
	f := newSvcFixture(t)
	lines := make([]string, app.MaxSyncImport+1)
	for i := range lines {
		lines[i] = alboLine(mario, "Mario", "Rossi")
	}
	if _, err := f.svc.ImportFile(t.Context(), asFI, "TSRM-FI", alboFile(lines...)); !errors.Is(err, app.ErrUseImportJob) {
		t.Fatalf("got %v", err)
	}
	if _, err := f.store.GetMember(t.Context(), "TSRM-FI", domain.CodiceFiscale(mario)); !errors.Is(err, domain.ErrMemberNotFound) {
		t.Errorf("a member was enrolled: %v", err)
	}
}

func TestImportFile_RefusesAnotherOrderAndABadHeader(t *testing.T) {
	f := newSvcFixture(t)
	if _, err := f.svc.ImportFile(t.Context(), asPI, "TSRM-FI", alboFile(alboLine(mario, "Mario", "Rossi"))); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("another Order: %v", err)
	}
	if _, err := f.svc.ImportFile(t.Context(), asFI, "TSRM-FI", []byte("nome;cognome\nMario;Rossi\n")); code(err) != "invalid_header" {
		t.Errorf("bad header: %v", err)
	}
}

func TestImportFile_StoreFailureStopsTheImport(t *testing.T) {
	f := newSvcFixture(t)
	f.store.FailAlways("CreateMember", fake.ErrInjected)
	if _, err := f.svc.ImportFile(t.Context(), asFI, "TSRM-FI", alboFile(alboLine(mario, "Mario", "Rossi"))); !errors.Is(err, fake.ErrInjected) {
		t.Errorf("got %v", err)
	}
}

// jobFixture runs import jobs of TSRM-FI in chunks of two rows.
type jobFixture struct {
	*svcFixture
	uploads *fake.Uploads
	next    *fake.Continuer
	jobs    *app.Imports
}

func newJobFixture(t *testing.T) *jobFixture {
	t.Helper()
	f := &jobFixture{svcFixture: newSvcFixture(t), uploads: &fake.Uploads{}, next: &fake.Continuer{}}
	f.jobs = &app.Imports{Service: f.svc, Store: f.store, Uploads: f.uploads, Continue: f.next, Log: discard,
		Now: f.clock.Now, UploadTTL: 15 * time.Minute, Chunk: 2, Reserve: 30 * time.Second}
	return f
}

// jobFile has five good lines (Mario, Anna, Giulia, Mario 2, Mario 3) and a bad one (line 4).
var jobFile = alboFile(alboLine(mario, "Mario", "Rossi"), alboLine(anna, "Anna", "Bianchi"), "bad;line\n",
	alboLine(giulia, "Giulia", "Verdi"), alboLine(mario2, "Mario", "Rossi"), alboLine(mario3, "Mario", "Rossi"))

// upload creates an import and uploads the file to it.
func (f *jobFixture) upload(t *testing.T, file []byte) *app.Import {
	t.Helper()
	im, url, expires, err := f.jobs.Create(t.Context(), asFI, "TSRM-FI")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(url, im.Key) || !expires.Equal(t0.Add(15*time.Minute)) {
		t.Errorf("upload URL %s until %s", url, expires)
	}
	f.uploads.Put(im.Key, file)
	return im
}

func (f *jobFixture) get(t *testing.T, id string) *app.Import {
	t.Helper()
	im, err := f.store.GetImport(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// wantDone checks a finished run of jobFile.
func (f *jobFixture) wantDone(t *testing.T, id string, runs int) {
	t.Helper()
	im, failures, err := f.jobs.Get(t.Context(), asFI, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if im.State != app.ImportDone || im.Processed != 6 || im.Created != 5 || im.Existing != 0 || im.FailedCount != 1 ||
		im.Offset != int64(len(jobFile)) || im.Runs != runs {
		t.Errorf("import %+v, want DONE with 6 processed, 5 created, 1 failed in %d runs", im, runs)
	}
	if len(failures) != 1 || failures[0].Line != 4 || failures[0].Code != "wrong_field_count" {
		t.Errorf("failures %+v", failures)
	}
	if n, _ := f.store.CountMailboxes(t.Context(), "TSRM-FI"); n[domain.StateRichiesta] != 5 {
		t.Errorf("mailboxes %v", n)
	}
}

func TestImportJob_CreateWaitsForTheUploadAndOnlyItsOrderSeesIt(t *testing.T) {
	f := newJobFixture(t)
	im, _, _, err := f.jobs.Create(t.Context(), asFI, "TSRM-FI")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := app.ImportIDOfKey(im.Key); !ok || id != im.ID || im.State != app.ImportWaitingUpload || im.Actor != asFI {
		t.Errorf("import %+v", im)
	}
	if _, _, err := f.jobs.Get(t.Context(), asPI, im.ID, 10); code(err) != "import_not_found" {
		t.Errorf("another Order: %v", err)
	}
	if _, _, _, err := f.jobs.Create(t.Context(), asPI, "TSRM-FI"); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("create for another Order: %v", err)
	}
	if _, _, _, err := f.jobs.Create(t.Context(), asFederation, "TSRM-XX"); !errors.Is(err, domain.ErrOrderNotFound) {
		t.Errorf("create for an unknown Order: %v", err)
	}
}

func TestImportJob_RunsInChunksToTheEnd(t *testing.T) {
	f := newJobFixture(t)
	im := f.upload(t, jobFile)
	if err := f.jobs.Run(t.Context(), im.ID, "invocation-1"); err != nil {
		t.Fatal(err)
	}
	f.wantDone(t, im.ID, 1)
	// A late duplicate of the event runs nothing.
	if err := f.jobs.Run(t.Context(), im.ID, "invocation-2"); err != nil || f.get(t, im.ID).Runs != 1 {
		t.Errorf("a finished import ran again: %v", err)
	}
}

func TestImportJob_CrashAfterWritingRowsResumesFromTheCheckpointCountingThemOnce(t *testing.T) {
	f := newJobFixture(t)
	f.jobs.PanicAfter = 3 // dies in the second chunk, after enrolling Giulia, before the checkpoint
	im := f.upload(t, jobFile)
	func() {
		defer func() { _ = recover() }()
		_ = f.jobs.Run(t.Context(), im.ID, "invocation-1")
		t.Fatal("no crash")
	}()
	cut := f.get(t, im.ID)
	if cut.State != app.ImportRunning || cut.Processed != 2 || cut.Created != 2 || cut.NextLine != 4 ||
		cut.Offset != int64(len(alboHeader)+len(alboLine(mario, "Mario", "Rossi"))+len(alboLine(anna, "Anna", "Bianchi"))) {
		t.Fatalf("checkpoint %+v, want the first chunk only", cut)
	}
	if _, err := f.store.GetMember(t.Context(), "TSRM-FI", domain.CodiceFiscale(giulia)); err != nil {
		t.Fatalf("the crashed chunk's rows were not written: %v", err)
	}
	// Lambda retries the invocation with the same request id: it takes over at once.
	if err := f.jobs.Run(t.Context(), im.ID, "invocation-1"); err != nil {
		t.Fatal(err)
	}
	f.wantDone(t, im.ID, 2)
}

func TestImportJob_AnotherRunWaitsForTheLeaseOfADeadOne(t *testing.T) {
	f := newJobFixture(t)
	im := f.upload(t, jobFile)
	f.store.Fail("PutFailures", fake.ErrInjected) // the first run dies after enrolling its first chunk
	if err := f.jobs.Run(t.Context(), im.ID, "invocation-1"); !errors.Is(err, fake.ErrInjected) {
		t.Fatalf("got %v", err)
	}
	if err := f.jobs.Run(t.Context(), im.ID, "invocation-2"); err != nil {
		t.Fatal(err)
	}
	if im := f.get(t, im.ID); im.Runs != 1 || im.Owner != "invocation-1" || im.Processed != 0 {
		t.Fatalf("another run took over a live lease: %+v", im)
	}
	f.clock.Advance(16 * time.Minute)
	if err := f.jobs.Run(t.Context(), im.ID, "invocation-2"); err != nil {
		t.Fatal(err)
	}
	f.wantDone(t, im.ID, 2)
}

func TestImportJob_HandsOverToANewRunWhenTimeRunsOut(t *testing.T) {
	f := newJobFixture(t)
	im := f.upload(t, jobFile)
	f.next.Then = func(ctx context.Context, id string) error {
		if cur := f.get(t, id); cur.State != app.ImportRunning || cur.Processed != 2 || !cur.LeaseUntil.IsZero() {
			t.Errorf("handed over %+v, want the first chunk checkpointed and the lease given up", cur)
		}
		return f.jobs.Run(context.WithoutCancel(ctx), id, "invocation-2") // a new invocation, with its own time
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // less than Reserve
	defer cancel()
	if err := f.jobs.Run(ctx, im.ID, "invocation-1"); err != nil {
		t.Fatal(err)
	}
	if got := f.next.Continued(); !slices.Equal(got, []string{im.ID}) {
		t.Errorf("continued %v", got)
	}
	f.wantDone(t, im.ID, 2)
}

func TestImportJob_AFileThatCannotBeReadFailsTheImport(t *testing.T) {
	tests := []struct {
		name   string
		file   []byte // nil: nothing uploaded
		reason string
	}{
		{"nothing uploaded", nil, "the uploaded file cannot be read"},
		{"no albo header", []byte("a;b\n1;2\n"), "the header lacks the required columns codiceFiscale, nome, cognome, albo, numeroIscrizione, dataIscrizione, email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newJobFixture(t)
			im, _, _, err := f.jobs.Create(t.Context(), asFI, "TSRM-FI")
			if err != nil {
				t.Fatal(err)
			}
			if tt.file != nil {
				f.uploads.Put(im.Key, tt.file)
			}
			if err := f.jobs.Run(t.Context(), im.ID, "invocation-1"); err != nil {
				t.Fatal(err)
			}
			if got := f.get(t, im.ID); got.State != app.ImportFailed || got.Error != tt.reason {
				t.Errorf("import %+v, want FAILED: %s", got, tt.reason)
			}
		})
	}
}

// A JSON file cannot resume mid-file: the run after a cut-off reads it again from the start.
// Its members are not enrolled twice, but the rows before the checkpoint are counted again:
// this test pins that behaviour (reported as a bug: the counts of a resumed JSON import exceed
// the file, and a JSON file too large for one run hands over from the start again and again).
func TestImportJob_AJSONFileResumedAfterACrashCountsEachRowOnce(t *testing.T) {
	f := newJobFixture(t)
	var b bytes.Buffer
	b.WriteString("[")
	for i, cf := range []string{mario, anna, giulia} {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"codiceFiscale":%q,"nome":"Socio","cognome":"N%d","albo":"TSRM","numeroIscrizione":"1","dataIscrizione":"2020-01-15","email":"s%d@example.it"}`, cf, i, i)
	}
	b.WriteString("]")
	f.jobs.PanicAfter = 3
	im := f.upload(t, b.Bytes())
	func() {
		defer func() { _ = recover() }()
		_ = f.jobs.Run(t.Context(), im.ID, "invocation-1")
		t.Fatal("no crash")
	}()
	if err := f.jobs.Run(t.Context(), im.ID, "invocation-1"); err != nil {
		t.Fatal(err)
	}
	if got := f.get(t, im.ID); got.State != app.ImportDone || got.Processed != 3 || got.Created != 3 || got.Existing != 0 {
		t.Errorf("import %+v, want DONE with each row counted once", got)
	}
	if n, _ := f.store.CountMailboxes(t.Context(), "TSRM-FI"); n[domain.StateRichiesta] != 3 {
		t.Errorf("mailboxes %v, want one per member", n)
	}
}
