package main

import (
	"net/http/httptest"
	"os"
)

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func writeFile(name, data string) error { return os.WriteFile(name, []byte(data), 0o644) }
