package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// openAPI is the served OpenAPI document, and a validator for the subset of
// JSON Schema it uses: type (one or several), enum, format (date-time, uuid),
// pattern, properties, required, additionalProperties: false, items,
// minimum, maximum, maxItems, maxLength and $ref.
type openAPI struct {
	doc map[string]any
}

var (
	specOnce sync.Once
	specDoc  *openAPI
	specErr  error
)

// loadOpenAPI fetches the document from the app, as clients would.
func loadOpenAPI(t testing.TB, a *testApp) *openAPI {
	t.Helper()
	specOnce.Do(func() {
		resp, err := http.Get(a.URL + "/api/v1/openapi.json")
		if err != nil {
			specErr = err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			specErr = fmt.Errorf("GET /api/v1/openapi.json: status %d", resp.StatusCode)
			return
		}
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			specErr = fmt.Errorf("openapi.json is not JSON: %w", err)
			return
		}
		specDoc = &openAPI{doc: doc}
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	return specDoc
}

// operation finds the path template and operation that a request hits.
func (o *openAPI) operation(method, path string) (string, map[string]any, error) {
	path = strings.TrimPrefix(path, "/api/v1")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	paths := o.doc["paths"].(map[string]any)
	for tmpl, item := range paths {
		parts := strings.Split(tmpl, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, "{") {
				parts[i] = `[^/]+`
			} else {
				parts[i] = regexp.QuoteMeta(p)
			}
		}
		re := regexp.MustCompile("^" + strings.Join(parts, "/") + "$")
		if !re.MatchString(path) {
			continue
		}
		op, ok := item.(map[string]any)[strings.ToLower(method)].(map[string]any)
		if !ok {
			return tmpl, nil, fmt.Errorf("%s %s is not documented", method, tmpl)
		}
		return tmpl, op, nil
	}
	return "", nil, fmt.Errorf("no documented path matches %s", path)
}

// checkResponse validates a response's status and JSON body against the
// document.
func (o *openAPI) checkResponse(method, path string, status int, contentType string, body []byte) error {
	tmpl, op, err := o.operation(method, path)
	if err != nil {
		return err
	}
	resp, ok := op["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s: status %d is not documented", method, tmpl, status)
	}
	resp = o.resolve(resp)
	media, _, _ := mime.ParseMediaType(contentType)
	if media != "text/csv" && media != "application/x-ndjson" {
		media = "application/json"
	}
	content, ok := resp["content"].(map[string]any)[media].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s %d: %s is not documented", method, tmpl, status, media)
	}
	schema, ok := content["schema"].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s %d: no schema for %s", method, tmpl, status, media)
	}
	check := func(doc []byte) error {
		var v any
		if err := json.Unmarshal(doc, &v); err != nil {
			return fmt.Errorf("%s %s %d: body is not JSON: %v: %s", method, tmpl, status, err, doc)
		}
		if problems := o.validate(schema, v, "$"); len(problems) > 0 {
			return fmt.Errorf("%s %s %d: body does not match the document:\n  %s\nbody: %s", method, tmpl, status, strings.Join(problems, "\n  "), doc)
		}
		return nil
	}
	switch media {
	case "text/csv":
		// Its columns are described in words; the tests read them.
		return nil
	case "application/x-ndjson":
		for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			if err := check(line); err != nil {
				return err
			}
		}
		return nil
	}
	return check(body)
}

// resolve follows a local $ref.
func (o *openAPI) resolve(s map[string]any) map[string]any {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		var cur any = o.doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		s = cur.(map[string]any)
	}
}

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// validate returns every way v breaks schema, each prefixed with its path.
func (o *openAPI) validate(schema map[string]any, v any, at string) []string {
	schema = o.resolve(schema)
	var out []string
	bad := func(format string, args ...any) { out = append(out, at+": "+fmt.Sprintf(format, args...)) }
	if t, ok := schema["type"]; ok {
		var allowed []string
		switch tt := t.(type) {
		case string:
			allowed = []string{tt}
		case []any:
			for _, x := range tt {
				allowed = append(allowed, x.(string))
			}
		}
		got := jsonType(v)
		if !slices.Contains(allowed, got) && !(got == "integer" && slices.Contains(allowed, "number")) {
			bad("type %s, want %v", got, allowed)
			return out
		}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		bad("%v is not one of %v", v, enum)
	}
	switch x := v.(type) {
	case string:
		switch schema["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				bad("%q is not a date-time", x)
			}
		case "uuid":
			if !uuidRe.MatchString(x) {
				bad("%q is not a lower-case uuid", x)
			}
		}
		if p, ok := schema["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(x) {
			bad("%q does not match %s", x, p)
		}
		if m, ok := schema["maxLength"].(float64); ok && float64(len([]rune(x))) > m {
			bad("longer than %v", m)
		}
	case float64:
		if m, ok := schema["minimum"].(float64); ok && x < m {
			bad("%v is below %v", x, m)
		}
		if m, ok := schema["maximum"].(float64); ok && x > m {
			bad("%v is above %v", x, m)
		}
	case []any:
		if m, ok := schema["maxItems"].(float64); ok && float64(len(x)) > m {
			bad("more than %v items", m)
		}
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range x {
				out = append(out, o.validate(items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		if req, ok := schema["required"].([]any); ok {
			for _, r := range req {
				if _, ok := x[r.(string)]; !ok {
					bad("required property %q is missing", r)
				}
			}
		}
		for k, pv := range x {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if schema["additionalProperties"] == false {
					bad("property %q is not documented", k)
				}
				continue
			}
			out = append(out, o.validate(ps, pv, at+"."+k)...)
		}
	}
	return out
}

func TestOpenAPIValidatorCatchesMismatches(t *testing.T) {
	o := &openAPI{doc: map[string]any{"components": map[string]any{"schemas": map[string]any{
		"Item": map[string]any{
			"type": "object", "additionalProperties": false, "required": []any{"id", "n"},
			"properties": map[string]any{
				"id": map[string]any{"type": "string", "format": "uuid"},
				"n":  map[string]any{"type": []any{"integer", "null"}, "minimum": 1.0},
				"s":  map[string]any{"type": "string", "enum": []any{"a", "b"}},
			},
		},
	}}}}
	item := map[string]any{"$ref": "#/components/schemas/Item"}
	good := map[string]any{"id": "0195f3c2-7a8b-7c9d-8e0f-123456789abc", "n": 2.0, "s": "a"}
	if p := o.validate(item, good, "$"); len(p) != 0 {
		t.Errorf("a valid object was refused: %v", p)
	}
	for name, v := range map[string]map[string]any{
		"missing n":    {"id": "0195f3c2-7a8b-7c9d-8e0f-123456789abc"},
		"upper uuid":   {"id": "0195F3C2-7A8B-7C9D-8E0F-123456789ABC", "n": nil},
		"fractional n": {"id": "0195f3c2-7a8b-7c9d-8e0f-123456789abc", "n": 1.5},
		"n below min":  {"id": "0195f3c2-7a8b-7c9d-8e0f-123456789abc", "n": 0.0},
		"not in enum":  {"id": "0195f3c2-7a8b-7c9d-8e0f-123456789abc", "n": nil, "s": "c"},
		"extra":        {"id": "0195f3c2-7a8b-7c9d-8e0f-123456789abc", "n": nil, "x": 1.0},
	} {
		if p := o.validate(item, v, "$"); len(p) == 0 {
			t.Errorf("%s: an invalid object was accepted", name)
		}
	}
}
