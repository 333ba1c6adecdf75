package localcloud_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pecplatform/pec/infra/localcloud"
)

// TestLayout_TemplateFunctionsMakefileAndHostAgree: every function of template.yaml has a
// functions/<dir>/main.go, a build target in the Makefile, and a constructor in the local host;
// and nothing exists in one place only.
func TestLayout_TemplateFunctionsMakefileAndHostAgree(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				CodeUri string `yaml:"CodeUri"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	fnList := regexp.MustCompile(`(?s)FUNCTIONS := (.*?)\n[A-Z]`).FindSubmatch(mk)
	if fnList == nil {
		t.Fatal("no FUNCTIONS list in the Makefile")
	}
	inMakefile := strings.Fields(strings.ReplaceAll(string(fnList[1]), "\\", " "))
	var inTemplate []string
	for id, r := range doc.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		dir := strings.TrimPrefix(r.Properties.CodeUri, "functions/")
		inTemplate = append(inTemplate, id+":"+dir)
		if _, err := os.Stat("../../functions/" + dir + "/main.go"); err != nil {
			t.Errorf("%s: no functions/%s/main.go", id, dir)
		}
		if localcloud.Functions[r.Properties.CodeUri] == nil {
			t.Errorf("%s: the local host has no constructor for %s", id, r.Properties.CodeUri)
		}
	}
	slices.Sort(inTemplate)
	slices.Sort(inMakefile)
	if !slices.Equal(inTemplate, inMakefile) {
		t.Errorf("Makefile FUNCTIONS %v\n  template functions %v", inMakefile, inTemplate)
	}
	dirs, _ := os.ReadDir("../../functions")
	if len(dirs) != len(inTemplate) || len(localcloud.Functions) != len(inTemplate) {
		t.Errorf("%d function folders, %d host constructors, %d template functions", len(dirs), len(localcloud.Functions), len(inTemplate))
	}
}

// TestLayout_MainAndHostUseTheSameBuilder: each functions/<dir>/main.go hands lambda.Start the
// handler of one builder, and the local host serves that function with the same builder, so
// what runs locally is what runs in Lambda.
func TestLayout_MainAndHostUseTheSameBuilder(t *testing.T) {
	hosted := hostBuilders(t, "local.go")
	dirs, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		codeURI := "functions/" + d.Name()
		main := mainBuilder(t, "../../"+codeURI+"/main.go")
		if main == "" {
			t.Errorf("%s/main.go: no builder call such as wire.Must(pkg.Builder(ctx, env))", codeURI)
			continue
		}
		if hosted[codeURI] != main {
			t.Errorf("%s: main.go builds with %s, the local host with %q", codeURI, main, hosted[codeURI])
		}
	}
	if len(hosted) != len(dirs) {
		t.Errorf("the host has %d functions, functions/ has %d", len(hosted), len(dirs))
	}
}

// mainBuilder returns the builder a main.go calls, as "<import path>.<name>": the call inside
// the wire.Must that is not wire.Load.
func mainBuilder(t *testing.T, path string) string {
	f, imports := parseGo(t, path)
	found := ""
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || qualified(call.Fun, imports) != "github.com/pecplatform/pec/shared/wire.Must" || len(call.Args) != 1 {
			return true
		}
		if inner, ok := call.Args[0].(*ast.CallExpr); ok {
			if name := qualified(inner.Fun, imports); name != "github.com/pecplatform/pec/shared/wire.Load" {
				found = name
			}
		}
		return true
	})
	return found
}

// hostBuilders returns, from the host's Functions map, each CodeUri's builder (the argument of
// host(...)), as "<import path>.<name>".
func hostBuilders(t *testing.T, path string) map[string]string {
	f, imports := parseGo(t, path)
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		key, ok := kv.Key.(*ast.BasicLit)
		call, ok2 := kv.Value.(*ast.CallExpr)
		if !ok || !ok2 || len(call.Args) != 1 || key.Kind != token.STRING {
			return true
		}
		if fn, ok := call.Fun.(*ast.Ident); ok && fn.Name == "host" {
			out[strings.Trim(key.Value, `"`)] = qualified(call.Args[0], imports)
		}
		return true
	})
	return out
}

func parseGo(t *testing.T, path string) (*ast.File, map[string]string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]string{}
	for _, im := range f.Imports {
		p := strings.Trim(im.Path.Value, `"`)
		name := p[strings.LastIndex(p, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		imports[name] = p
	}
	return f, imports
}

// qualified names a pkg.Name selector by its import path.
func qualified(e ast.Expr, imports map[string]string) string {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok {
		return ""
	}
	return imports[pkg.Name] + "." + sel.Sel.Name
}

// maxInterfaceMethods: a port is narrow, declared with the use case that needs it.
const maxInterfaceMethods = 12

// TestLayout_NoInterfaceInSharedOverTwelveMethods counts the method set of every interface
// declared in shared/ (embedded interfaces included) and fails for one over the limit.
func TestLayout_NoInterfaceInSharedOverTwelveMethods(t *testing.T) {
	const module = "github.com/pecplatform/pec/"
	type iface struct {
		methods []string
		embeds  []string // qualified names
	}
	ifaces := map[string]*iface{} // "<import path>.<Name>"
	err := filepath.WalkDir("../../shared", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, imports := parseGo(t, path)
		pkg := module + strings.TrimPrefix(filepath.Dir(path), "../../")
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				ts, ok := spec.(*ast.TypeSpec)
				if !ok {
					continue
				}
				it, ok := ts.Type.(*ast.InterfaceType)
				if !ok {
					continue
				}
				in := &iface{}
				for _, m := range it.Methods.List {
					switch e := m.Type.(type) {
					case *ast.FuncType:
						for _, n := range m.Names {
							in.methods = append(in.methods, n.Name)
						}
					case *ast.Ident:
						in.embeds = append(in.embeds, pkg+"."+e.Name)
					case *ast.SelectorExpr:
						in.embeds = append(in.embeds, qualified(e, imports))
					}
				}
				ifaces[pkg+"."+ts.Name.Name] = in
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var methodSet func(name string, seen map[string]bool) map[string]bool
	methodSet = func(name string, seen map[string]bool) map[string]bool {
		out := map[string]bool{}
		in, ok := ifaces[name]
		if !ok {
			t.Errorf("%s: embedded interface not declared in shared/, cannot count it", name)
			return out
		}
		for _, m := range in.methods {
			out[m] = true
		}
		for _, e := range in.embeds {
			if !seen[e] {
				seen[e] = true
				for m := range methodSet(e, seen) {
					out[m] = true
				}
			}
		}
		return out
	}
	if len(ifaces) < 20 {
		t.Fatalf("found only %d interfaces in shared/: the scan is broken", len(ifaces))
	}
	for name := range ifaces {
		if n := len(methodSet(name, map[string]bool{name: true})); n > maxInterfaceMethods {
			t.Errorf("%s has %d methods (at most %d): split it by the use cases that need it", strings.TrimPrefix(name, module), n, maxInterfaceMethods)
		}
	}
}

// TestLayout_ReadmeListsEveryPackage: the README's Layout section lists every Go package of
// shared/ and infra/, one line each, and nothing that does not exist.
func TestLayout_ReadmeListsEveryPackage(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)## Layout\n\n```\n(.*?)```").FindSubmatch(raw)
	if block == nil {
		t.Fatal("no ## Layout section with a code block in the README")
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(block[1]), "\n") {
		if f := strings.Fields(line); len(f) > 0 && (strings.HasPrefix(f[0], "shared/") || strings.HasPrefix(f[0], "infra/")) {
			p := strings.TrimSuffix(f[0], "/")
			listed[p] = true
			if _, err := os.Stat("../../" + p); err != nil {
				t.Errorf("the README lists %s, which does not exist", p)
			}
		}
	}
	for _, root := range []string{"shared", "infra"} {
		_ = filepath.WalkDir("../../"+root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() || d.Name() == "testdata" || d.Name() == "node_modules" {
				if d != nil && d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules") {
					return filepath.SkipDir
				}
				return err
			}
			goFiles, _ := filepath.Glob(filepath.Join(path, "*.go"))
			rel := strings.TrimPrefix(path, "../../")
			if len(goFiles) > 0 && !listed[rel] {
				t.Errorf("the README's Layout does not list the package %s", rel)
			}
			return nil
		})
	}
}

// TestLayout_TheDomainAndTheUseCasesKnowNoAWSNorHTTP: shared/domain and shared/app link no AWS
// SDK and no net/http (their ports are implemented by the adapters).
func TestLayout_TheDomainAndTheUseCasesKnowNoAWSNorHTTP(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../shared/domain", "../../shared/app").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "net/http" || strings.HasPrefix(dep, "github.com/aws/") {
			t.Errorf("shared/domain or shared/app depends on %s", dep)
		}
	}
}
