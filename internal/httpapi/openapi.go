package httpapi

import (
	_ "embed"
	"net/http"
	"strconv"
)

// OpenAPIDocument is the hand-written OpenAPI 3.1 description of the API;
// a test checks it against the registered routes.
//
//go:embed openapi.json
var OpenAPIDocument []byte

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(OpenAPIDocument)))
	_, err := w.Write(OpenAPIDocument)
	return err
}
