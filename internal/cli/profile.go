package cli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Profile is one section of ~/.lakebox/config.
type Profile struct {
	Host  string
	Token string
}

func profilePath(env *Env) string {
	if p := env.Getenv("LAKEBOX_CONFIG_FILE"); p != "" {
		return p
	}
	return filepath.Join(env.Home, ".lakebox", "config")
}

// loadProfiles reads the INI-style profiles file (like .databrickscfg):
//
//	[DEFAULT]
//	host  = http://127.0.0.1:8080
//	token = lbx_…
func loadProfiles(env *Env) (map[string]Profile, error) {
	path := profilePath(env)
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return map[string]Profile{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read profiles: %w", err)
	}
	defer f.Close()
	out := map[string]Profile{}
	section := "DEFAULT"
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.TrimSpace(line[1 : len(line)-1])
			out[section] = out[section]
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf("%s:%d: expected `key = value`", path, n)
			}
			p := out[section]
			switch strings.TrimSpace(k) {
			case "host":
				p.Host = strings.TrimSpace(v)
			case "token":
				p.Token = strings.TrimSpace(v)
			}
			out[section] = p
		}
	}
	return out, sc.Err()
}

// saveProfile writes one profile, keeping the others, with mode 0600.
func saveProfile(env *Env, name string, p Profile) error {
	all, err := loadProfiles(env)
	if err != nil {
		return err
	}
	all[name] = p
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "[%s]\nhost  = %s\ntoken = %s\n\n", n, all[n].Host, all[n].Token)
	}
	path := profilePath(env)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write profiles: %w", err)
	}
	return os.Rename(tmp, path)
}
