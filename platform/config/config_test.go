package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type inner struct {
	URL string `env:"T_URL" default:"nats://x"`
}

type sample struct {
	Name    string        `env:"T_NAME" default:"sinp"`
	Port    int           `env:"T_PORT" default:"7400"`
	Debug   bool          `env:"T_DEBUG"`
	Timeout time.Duration `env:"T_TIMEOUT" default:"5s"`
	List    []string      `env:"T_LIST" default:"a, b"`
	Inner   inner
}

func (s *sample) Validate() error {
	if s.Port <= 0 {
		return errors.New("T_PORT: must be positive")
	}
	return nil
}

func TestLoadDefaultsAndOverrides(t *testing.T) {
	var s sample
	if err := Load(&s, Map(map[string]string{"T_PORT": "9000", "T_URL": "nats://y"})); err != nil {
		t.Fatal(err)
	}
	if s.Name != "sinp" || s.Port != 9000 || s.Timeout != 5*time.Second || s.Inner.URL != "nats://y" {
		t.Fatalf("unexpected %+v", s)
	}
	if len(s.List) != 2 || s.List[1] != "b" {
		t.Fatalf("list = %q", s.List)
	}
}

func TestErrorsNameTheVariable(t *testing.T) {
	var s sample
	err := Load(&s, Map(map[string]string{"T_PORT": "many", "T_TIMEOUT": "soon"}))
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"T_PORT", "T_TIMEOUT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if err := Load(&s, Map(map[string]string{"T_PORT": "-1"})); err == nil || !strings.Contains(err.Error(), "T_PORT") {
		t.Errorf("validation error %v does not name T_PORT", err)
	}
}
