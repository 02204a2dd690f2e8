// Package config fills configuration structs from environment variables.
//
// A field is read from the variable its `env` tag names, falling back to its
// `default` tag. Supported kinds: string, bool, int, int64, float64,
// time.Duration and []string (comma separated). Errors always name the
// variable, so an operator knows which line of the environment to fix.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Lookuper returns the value of an environment variable and whether it is set.
type Lookuper func(name string) (string, bool)

// OS reads the process environment.
var OS Lookuper = os.LookupEnv

// Map is a Lookuper over a fixed set of variables, for tests.
func Map(m map[string]string) Lookuper {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// Validator is implemented by config structs that check themselves after
// loading. Errors should name the variable at fault.
type Validator interface {
	Validate() error
}

// Load fills dst (a pointer to a struct) from lookup. Nested structs are
// walked; a nested struct that implements Validator is validated too.
func Load(dst any, lookup Lookuper) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return errors.New("config.Load: destination must be a pointer to a struct")
	}
	if lookup == nil {
		lookup = OS
	}
	return load(v.Elem(), lookup)
}

func load(v reflect.Value, lookup Lookuper) error {
	t := v.Type()
	var errs []error
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		name, hasEnv := f.Tag.Lookup("env")
		if !hasEnv {
			if fv.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Time]() {
				if err := load(fv, lookup); err != nil {
					errs = append(errs, err)
				}
			}
			continue
		}
		raw, set := lookup(name)
		if !set || raw == "" {
			def, hasDef := f.Tag.Lookup("default")
			if !hasDef {
				continue
			}
			raw = def
		}
		if err := setField(fv, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, raw, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if val, ok := v.Addr().Interface().(Validator); ok {
		return val.Validate()
	}
	return nil
}

func setField(fv reflect.Value, raw string) error {
	switch fv.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("not a duration (examples: 90s, 15m, 36h)")
		}
		fv.SetInt(int64(d))
		return nil
	case []string:
		var parts []string
		for p := range strings.SplitSeq(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		fv.Set(reflect.ValueOf(parts))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("not a boolean (true or false)")
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		fv.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		fv.SetFloat(x)
	default:
		return fmt.Errorf("unsupported field kind %s", fv.Kind())
	}
	return nil
}
