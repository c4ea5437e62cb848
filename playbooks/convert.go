package playbooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"patrol/module"
)

// convertArg turns a value into the Go type of arg's declared ArgType, as
// module.Args documents it. The value is a YAML literal at load time or a
// rendered template at run time, so strings are parsed as well. The error names
// the expected type with an example, and callers add the position.
func convertArg(arg module.Arg, v any) (any, error) {
	out, err := convertType(arg.Type, v)
	if err != nil {
		return nil, err
	}

	if len(arg.Enum) > 0 {
		s := out.(string)
		if !slices.Contains(arg.Enum, s) {
			en, zh := didYouMean(s, arg.Enum)
			list := strings.Join(arg.Enum, ", ")
			return nil, argErrorf(fmt.Sprintf("must be one of %s, got %q%s", list, s, en),
				fmt.Sprintf("只能取 %s 之一，实际为 %q%s", list, s, zh))
		}
	}
	return out, nil
}

func convertType(t module.ArgType, v any) (any, error) {
	switch t {
	case module.String:
		return toString(v)
	case module.Int:
		return toInt(v)
	case module.Float:
		return toFloat(v)
	case module.Bool:
		return toBool(v)
	case module.Duration:
		return toDuration(v)
	case module.Strings:
		return toStrings(v)
	case module.Map:
		return toMap(v)
	}
	return nil, argErrorf(fmt.Sprintf("has unknown type %q in the module's declaration", t),
		fmt.Sprintf("在模块声明中的类型 %q 未知", t))
}

func toString(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int, int64, float64, bool:
		return fmt.Sprint(x), nil
	}
	return nil, argErrorf(fmt.Sprintf("expects a string, got %s; quote the value, or use join to turn a list into one string", describe(v)),
		fmt.Sprintf("应为字符串，实际为 %s；请给值加引号，列表可用 join 连成一个字符串", describe(v)))
}

func toInt(v any) (any, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x), nil
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			return n, nil
		}
	}
	return nil, argErrorf(fmt.Sprintf("expects a whole number such as 80, got %s", describe(v)),
		fmt.Sprintf("应为整数（如 80），实际为 %s", describe(v)))
}

func toFloat(v any) (any, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f, nil
		}
	}
	return nil, argErrorf(fmt.Sprintf("expects a number such as 0.5, got %s", describe(v)),
		fmt.Sprintf("应为数字（如 0.5），实际为 %s", describe(v)))
}

func toBool(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "on":
			return true, nil
		case "false", "no", "off":
			return false, nil
		}
	}
	return nil, argErrorf(fmt.Sprintf("expects true or false, got %s", describe(v)),
		fmt.Sprintf("应为 true 或 false，实际为 %s", describe(v)))
}

func toDuration(v any) (any, error) {
	d, err := parseDuration(v)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// parseDuration reads a duration written as Go's time.ParseDuration accepts
// ("30s", "5m", "1h30m"), as whole days ("7d"), or as a number of seconds.
func parseDuration(v any) (time.Duration, error) {
	var d time.Duration
	ok := false
	switch x := v.(type) {
	case time.Duration:
		d, ok = x, true
	case int:
		d, ok = time.Duration(x)*time.Second, true
	case int64:
		d, ok = time.Duration(x)*time.Second, true
	case float64:
		d, ok = time.Duration(x*float64(time.Second)), true
	case string:
		d, ok = parseDurationString(strings.TrimSpace(x))
	}
	if !ok {
		return 0, argErrorf(fmt.Sprintf("expects a duration such as 30s, 5m, 2h or a number of seconds, got %s", describe(v)),
			fmt.Sprintf("应为时长（如 30s、5m、2h）或秒数，实际为 %s", describe(v)))
	}
	if d < 0 {
		return 0, argErrorf(fmt.Sprintf("expects a duration of zero or more, got %s", describe(v)),
			fmt.Sprintf("时长不能为负，实际为 %s", describe(v)))
	}
	return d, nil
}

func parseDurationString(s string) (time.Duration, bool) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(time.Second)), true
	}
	if days, found := strings.CutSuffix(s, "d"); found {
		if n, err := strconv.Atoi(days); err == nil {
			return time.Duration(n) * 24 * time.Hour, true
		}
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

func toStrings(v any) (any, error) {
	switch x := v.(type) {
	case []string:
		return x, nil
	case string:
		var list []any
		if err := json.Unmarshal([]byte(x), &list); err == nil {
			return toStrings(list)
		}
	}

	rv := reflect.ValueOf(v)
	if v == nil || rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, argErrorf(fmt.Sprintf("expects a list such as [a, b], got %s; write a single value as a list of one item", describe(v)),
			fmt.Sprintf("应为列表（如 [a, b]），实际为 %s；单个值也请写成只有一项的列表", describe(v)))
	}
	out := make([]string, rv.Len())
	for i := range rv.Len() {
		item := rv.Index(i).Interface()
		s, err := toString(item)
		if err != nil {
			return nil, argErrorf(fmt.Sprintf("expects a list of strings, but item %d is %s", i+1, describe(item)),
				fmt.Sprintf("应为字符串列表，但第 %d 项是 %s", i+1, describe(item)))
		}
		out[i] = s.(string)
	}
	return out, nil
}

func toMap(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case string:
		var m map[string]any
		if err := json.Unmarshal([]byte(x), &m); err == nil && m != nil {
			return m, nil
		}
	}

	rv := reflect.ValueOf(v)
	if v != nil && rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
		out := make(map[string]any, rv.Len())
		for _, k := range rv.MapKeys() {
			out[k.String()] = rv.MapIndex(k).Interface()
		}
		return out, nil
	}
	return nil, argErrorf(fmt.Sprintf("expects a mapping such as {key: value}, got %s", describe(v)),
		fmt.Sprintf("应为映射（如 {key: value}），实际为 %s", describe(v)))
}

// describe shows a value in an error message: its kind and, for scalars, the value.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("%q", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case int, int64, float64:
		return fmt.Sprintf("number %v", x)
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

// argError is a conversion error in both languages. Its text continues a
// sentence such as "argument warn of check.disk …".
type argError struct {
	en, zh string
}

func (e *argError) Error() string { return e.en }

func argErrorf(en, zh string) *argError { return &argError{en: en, zh: zh} }

// zhText returns the Chinese text of err when it has one, else its English text.
func zhText(err error) string {
	var ae *argError
	if errors.As(err, &ae) && ae.zh != "" {
		return ae.zh
	}
	return err.Error()
}
