package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/guichet/guichet/api"
)

// openAPI is the document, read once, with a compiler of its schemas.
type openAPI struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema // by JSON pointer
}

const docURL = "mem://guichet/openapi.json"

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(api.OpenAPI))
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	doc, _ := v.(map[string]any)
	if doc == nil || !strings.HasPrefix(fmt.Sprint(doc["openapi"]), "3.1.") {
		t.Fatalf("openapi.json is not an OpenAPI 3.1 document")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, doc); err != nil {
		t.Fatal(err)
	}
	return &openAPI{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}}
}

// schema compiles the schema at the JSON pointer ptr of the document.
func (o *openAPI) schema(t *testing.T, ptr []string) *jsonschema.Schema {
	t.Helper()
	var b strings.Builder
	for _, tok := range ptr {
		b.WriteString("/" + url.PathEscape(strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)))
	}
	key := b.String()
	if s := o.schemas[key]; s != nil {
		return s
	}
	s, err := o.compiler.Compile(docURL + "#" + key)
	if err != nil {
		t.Fatalf("compiling the schema at %s: %v", key, err)
	}
	o.schemas[key] = s
	return s
}

// resolve follows a $ref to the document's components.
func (o *openAPI) resolve(v any) (map[string]any, []string) {
	m, _ := v.(map[string]any)
	ref, ok := m["$ref"].(string)
	if !ok {
		return m, nil
	}
	ptr := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
	var cur any = o.doc
	for _, tok := range ptr {
		cur = cur.(map[string]any)[tok]
	}
	out, _ := cur.(map[string]any)
	return out, ptr
}

var methods = []string{"get", "put", "post", "patch", "delete"}

// operations lists "METHOD /path" of every documented operation.
func (o *openAPI) operations() []string {
	var ops []string
	for path, item := range o.doc["paths"].(map[string]any) {
		for _, m := range methods {
			if _, ok := item.(map[string]any)[m]; ok {
				ops = append(ops, strings.ToUpper(m)+" "+path)
			}
		}
	}
	slices.Sort(ops)
	return ops
}

// router is the API's router, as served.
func router() chi.Router {
	r := chi.NewRouter()
	(&api.Server{}).Routes(r)
	return r
}

// Every route served is documented, and every documented route served.
func TestOpenAPIRoutes(t *testing.T) {
	o := loadOpenAPI(t)
	var served []string
	if err := chi.Walk(router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served = append(served, method+" "+route)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(served)
	if docs := o.operations(); !slices.Equal(docs, served) {
		t.Errorf("documented:\n  %s\nserved:\n  %s", strings.Join(docs, "\n  "), strings.Join(served, "\n  "))
	}
}

// Every example of a request or response body is valid against its schema.
func TestOpenAPIExamples(t *testing.T) {
	o := loadOpenAPI(t)
	checked := 0
	var walk func(v any, at []string)
	walk = func(v any, at []string) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["schema"]; ok {
				if examples, ok := v["examples"].(map[string]any); ok {
					sch := o.schema(t, append(slices.Clone(at), "schema"))
					for name, ex := range examples {
						ex, _ := o.resolve(ex)
						if err := sch.Validate(ex["value"]); err != nil {
							t.Errorf("example %s at %s: %v", name, strings.Join(at, "/"), err)
						}
						checked++
					}
				}
			}
			for k, w := range v {
				walk(w, append(slices.Clone(at), k))
			}
		case []any:
			for i, w := range v {
				walk(w, append(slices.Clone(at), fmt.Sprint(i)))
			}
		}
	}
	walk(o.doc["paths"], []string{"paths"})
	walk(o.doc["components"], []string{"components"})
	if checked == 0 {
		t.Error("no example found")
	}
	t.Logf("%d examples valid", checked)
}

// checkResponse holds what a handler answered to the document: the
// operation's schema for that status and media type.
func (o *openAPI) checkResponse(t *testing.T, method, path string, status int, ctype string, body []byte) {
	t.Helper()
	rctx := chi.NewRouteContext()
	if !router().Match(rctx, method, path) {
		t.Errorf("%s %s: no route", method, path)
		return
	}
	route := rctx.RoutePattern()
	op, ok := o.doc["paths"].(map[string]any)[route].(map[string]any)[strings.ToLower(method)].(map[string]any)
	if !ok {
		t.Errorf("%s %s is not documented", method, route)
		return
	}
	code := fmt.Sprint(status)
	if _, ok := op["responses"].(map[string]any)[code]; !ok {
		code = "default"
	}
	resp, ptr := o.resolve(op["responses"].(map[string]any)[code])
	if resp == nil {
		t.Errorf("%s %s answered %d, which it does not document", method, route, status)
		return
	}
	if ptr == nil {
		ptr = []string{"paths", route, strings.ToLower(method), "responses", code}
	}
	mt := strings.TrimSpace(strings.Split(ctype, ";")[0])
	if _, ok := resp["content"].(map[string]any)[mt]; !ok {
		t.Errorf("%s %s answered %d as %s, documented as %v", method, route, status, mt, resp["content"])
		return
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("%s %s: answer is not JSON: %v", method, route, err)
		return
	}
	if err := o.schema(t, append(ptr, "content", mt, "schema")).Validate(inst); err != nil {
		t.Errorf("%s %s answered %d a body its schema refuses: %v\n%s", method, route, status, err, body)
	}
}
