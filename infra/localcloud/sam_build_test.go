package localcloud_test

import (
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// What `sam build` does with a function whose Metadata says BuildMethod: makefile (SAM CLI,
// samcli/lib/build/app_builder.py ApplicationBuilder._build_function, and aws-lambda-builders,
// workflows/custom_make): the source folder is CodeUri, or ProjectRootDirectory when set; the
// Makefile is <ContextPath or the source folder>/Makefile; the source folder is copied into a
// scratch folder (leaving out .aws-sam and .git at any depth) and
//
//	make --makefile <Makefile> build-<LogicalId>
//
// runs there, with the environment of sam plus ARTIFACTS_DIR, the absolute path of
// .aws-sam/build/<LogicalId>. Lambda then runs $(ARTIFACTS_DIR)/bootstrap (provided.al2023).

// samExcluded are the names CustomMakeWorkflow.EXCLUDED_FILES leaves out of the copy.
var samExcluded = map[string]bool{".aws-sam": true, ".git": true}

// TestSAMBuild_EveryFunctionHasWhatSAMBuildNeeds: each function builds with the makefile method
// from the repository root (the one go.mod), its target exists, and it writes a static
// bootstrap for the template's architecture from the function's CodeUri.
func TestSAMBuild_EveryFunctionHasWhatSAMBuildNeeds(t *testing.T) {
	doc := readTemplate(t)
	if rt := value(doc.root, "Globals", "Function", "Runtime"); rt != "provided.al2023" {
		t.Errorf("Globals.Function.Runtime is %q: a makefile build's bootstrap needs provided.al2023", rt)
	}
	if h := value(doc.root, "Globals", "Function", "Handler"); h != "bootstrap" {
		t.Errorf("Globals.Function.Handler is %q, want bootstrap", h)
	}
	arch := value(doc.root, "Globals", "Function", "Architectures", "0")
	goarch := map[string]string{"arm64": "arm64", "x86_64": "amd64"}[arch]
	if goarch == "" {
		t.Fatalf("Globals.Function.Architectures[0] is %q", arch)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fns := doc.resources("AWS::Serverless::Function")
	if len(fns) < 18 {
		t.Fatalf("found %d functions: the template reading is broken", len(fns))
	}
	for id, fn := range fns {
		if m := value(fn, "Metadata", "BuildMethod"); m != "makefile" {
			t.Errorf("%s: Metadata.BuildMethod is %q, want makefile", id, m)
			continue
		}
		project := filepath.Join(root, value(fn, "Metadata", "ProjectRootDirectory"))
		if _, err := os.Stat(filepath.Join(project, "go.mod")); value(fn, "Metadata", "ProjectRootDirectory") == "" || err != nil {
			t.Errorf("%s: Metadata.ProjectRootDirectory must name the folder of go.mod (the repository root): sam build copies only that folder", id)
		}
		context := filepath.Join(root, value(fn, "Metadata", "ContextPath"))
		if _, err := os.Stat(filepath.Join(context, "Makefile")); value(fn, "Metadata", "ContextPath") == "" || err != nil {
			t.Errorf("%s: Metadata.ContextPath must name the folder of the Makefile", id)
		}
		codeURI := value(fn, "Properties", "CodeUri")
		if rel, err := filepath.Rel(project, filepath.Join(root, codeURI)); err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("%s: CodeUri %s is outside ProjectRootDirectory", id, codeURI)
			continue
		}
		// The recipe as make would run it: from the project root, SAM's ARTIFACTS_DIR.
		cmd := exec.Command("make", "-n", "--no-print-directory", "--makefile", filepath.Join(context, "Makefile"), "build-"+id)
		cmd.Dir = project
		cmd.Env = append(os.Environ(), "ARTIFACTS_DIR=/sam/build/"+id)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: make -n build-%s: %v\n%s", id, id, err, out)
			continue
		}
		recipe := string(out)
		for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + goarch, " build ",
			"-o /sam/build/" + id + "/bootstrap ./" + filepath.ToSlash(filepath.Clean(codeURI))} {
			if !strings.Contains(recipe, want) {
				t.Errorf("%s: build-%s does not contain %q:\n%s", id, id, want, recipe)
			}
		}
	}
}

// TestSAMBuild_OrdersFunctionBuildsInSAMsScratchFolder reproduces sam build for one function:
// the repository (as a checkout has it: tracked and untracked files, none that git ignores)
// copied to a scratch folder without .git and .aws-sam, the target run from there with
// ARTIFACTS_DIR set; the bootstrap must be a static linux/arm64 executable. It also shows why
// CodeUri alone, which SAM used to copy, could not build.
func TestSAMBuild_OrdersFunctionBuildsInSAMsScratchFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a function (not in -short mode)")
	}
	for _, tool := range []string{"make", "go", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	const id, codeURI = "OrdersFunction", "functions/orders"
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	makefile := filepath.Join(root, "Makefile") // ContextPath: . (SAM passes the original, not the copy)
	files := checkoutFiles(t, root)

	t.Run("ProjectRootDirectory", func(t *testing.T) {
		scratch, build := t.TempDir(), t.TempDir()
		copyForSAM(t, root, scratch, files)
		artifacts := filepath.Join(build, ".aws-sam", "build", id)
		if err := os.MkdirAll(artifacts, 0o755); err != nil { // CustomMakeAction creates it first
			t.Fatal(err)
		}
		if out, err := samMake(scratch, makefile, id, artifacts); err != nil {
			t.Fatalf("make build-%s in the scratch folder: %v\n%s", id, err, out)
		}
		checkBootstrap(t, filepath.Join(artifacts, "bootstrap"))
	})

	t.Run("CodeUriAlone", func(t *testing.T) {
		scratch, build := t.TempDir(), t.TempDir()
		var only []string
		for _, f := range files {
			if strings.HasPrefix(f, codeURI+"/") {
				only = append(only, f)
			}
		}
		copyForSAM(t, filepath.Join(root, codeURI), scratch, trimPrefix(only, codeURI+"/"))
		out, err := samMake(scratch, makefile, id, filepath.Join(build, id))
		if err == nil {
			t.Fatalf("the function's folder alone built; the test no longer shows the layout it needs:\n%s", out)
		}
		if !bytes.Contains(out, []byte("go.mod")) {
			t.Errorf("CodeUri alone failed, but not for want of go.mod:\n%s", out)
		}
	})
}

// samMake runs the build target as CustomMakeAction does.
func samMake(dir, makefile, id, artifacts string) ([]byte, error) {
	cmd := exec.Command("make", "--makefile", makefile, "build-"+id)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ARTIFACTS_DIR="+artifacts)
	return cmd.CombinedOutput()
}

// checkoutFiles lists the files a checkout of the repository has, relative to root.
func checkoutFiles(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	var files []string
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		// Left out: a file deleted but not committed, and an untracked symlink to a folder
		// (git lists it as a file; a local link to installed tools, not the repository's).
		if st, err := os.Stat(filepath.Join(root, f)); err == nil && !st.IsDir() {
			files = append(files, f)
		}
	}
	return files
}

func trimPrefix(files []string, prefix string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = strings.TrimPrefix(f, prefix)
	}
	return out
}

// copyForSAM copies files from src to dst, leaving out what SAM's copy leaves out.
func copyForSAM(t *testing.T, src, dst string, files []string) {
	t.Helper()
	for _, f := range files {
		excluded := false
		for _, part := range strings.Split(f, "/") {
			excluded = excluded || samExcluded[part]
		}
		if excluded {
			continue
		}
		target := filepath.Join(dst, f)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		in, err := os.Open(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(target)
		if err == nil {
			_, err = io.Copy(out, in)
			err = errors.Join(err, out.Close())
		}
		in.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// checkBootstrap: a statically linked linux/arm64 executable (no interpreter, no shared
// libraries), as provided.al2023 on arm64 runs it.
func checkBootstrap(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no bootstrap in ARTIFACTS_DIR: %v", err)
	}
	if st.Mode()&0o111 == 0 {
		t.Errorf("bootstrap is not executable (%v)", st.Mode())
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF file: %v", err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_AARCH64 || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		t.Errorf("bootstrap is %v %v %v, want a 64-bit linux/arm64 executable", f.Class, f.Machine, f.OSABI)
	}
	if f.Type != elf.ET_EXEC {
		t.Errorf("bootstrap is of type %v, want a static executable (ET_EXEC)", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("bootstrap has a %v program header: it is dynamically linked", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("bootstrap needs shared libraries %v", libs)
	}
}
