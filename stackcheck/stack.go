package stackcheck

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// Stacks lists the stacks that have a Pulumi.<stack>.yaml (or .yml) beside
// root's Pulumi.yaml, sorted: every one of them is a stack someone may
// `pulumi up`.
func Stacks(root string) ([]string, error) {
	var names []string
	for _, ext := range []string{".yaml", ".yml"} {
		files, err := filepath.Glob(filepath.Join(root, "Pulumi.*"+ext))
		if err != nil {
			return nil, fmt.Errorf("list stack files in %s: %w", root, err)
		}
		for _, f := range files {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ext))
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Config is the configuration Pulumi hands the program for a stack: the
// stack file's values over Pulumi.yaml's defaults, keyed "<namespace>:<key>",
// objects and lists as JSON text.
type Config struct {
	Values map[string]string
	// SecretKeys are the keys whose values are secrets.
	SecretKeys []string
	// Undecrypted are secret keys this check could not decrypt; Values
	// holds a placeholder for each (see placeholderFor).
	Undecrypted []string
}

// The environment variables the Pulumi CLI reads a stack's passphrase from.
const (
	EnvPassphrase     = "PULUMI_CONFIG_PASSPHRASE"
	EnvPassphraseFile = "PULUMI_CONFIG_PASSPHRASE_FILE"
)

// LoadConfig reads root's Pulumi.yaml and the stack's file with Pulumi's own
// loaders, so the files are checked as the CLI reads them. Secrets are
// decrypted when the stack uses the passphrase provider and env holds its
// passphrase; otherwise each gets a placeholder and is listed in Undecrypted.
func LoadConfig(root, stack string, env func(string) string) (Config, error) {
	proj, err := workspace.LoadProject(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		return Config{}, fmt.Errorf("load Pulumi.yaml: %w", err)
	}
	path, err := stackFile(root, stack)
	if err != nil {
		return Config{}, err
	}
	ps, err := workspace.LoadProjectStack(nil, proj, path)
	if err != nil {
		return Config{}, fmt.Errorf("load %s: %w", filepath.Base(path), err)
	}
	cfg := Config{Values: map[string]string{}}
	for k, decl := range proj.Config {
		v := decl.Value
		if v == nil {
			v = decl.Default
		}
		if v == nil {
			continue
		}
		s, err := configString(v)
		if err != nil {
			return Config{}, fmt.Errorf("config %s in Pulumi.yaml: %w", k, err)
		}
		if !strings.Contains(k, ":") {
			k = proj.Name.String() + ":" + k
		}
		cfg.Values[k] = s
	}
	decrypter, why := secretsDecrypter(ps, env)
	for k, v := range ps.Config {
		key := k.String()
		d := &probingDecrypter{inner: decrypter, placeholder: placeholderFor(key)}
		s, err := v.Value(d)
		if err != nil {
			return Config{}, fmt.Errorf("config %s: %w", key, err)
		}
		if d.used {
			cfg.SecretKeys = append(cfg.SecretKeys, key)
			if decrypter == nil {
				cfg.Undecrypted = append(cfg.Undecrypted, key+" ("+why+")")
			}
		}
		cfg.Values[key] = s
	}
	slices.Sort(cfg.SecretKeys)
	slices.Sort(cfg.Undecrypted)
	return cfg, nil
}

// probingDecrypter notes whether a value held a secret (also one nested in
// an object) and decrypts it, or puts a placeholder in its place.
type probingDecrypter struct {
	inner       config.Decrypter
	placeholder string
	used        bool
}

func (d *probingDecrypter) DecryptValue(ctx context.Context, ciphertext string) (string, error) {
	d.used = true
	if d.inner == nil {
		return d.placeholder, nil
	}
	return d.inner.DecryptValue(ctx, ciphertext)
}

func (d *probingDecrypter) BatchDecrypt(ctx context.Context, ciphertexts []string) ([]string, error) {
	return config.DefaultBatchDecrypt(ctx, d, ciphertexts)
}

func stackFile(root, stack string) (string, error) {
	for _, ext := range []string{".yaml", ".yml"} {
		path := filepath.Join(root, "Pulumi."+stack+ext)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	stacks, err := Stacks(root)
	switch {
	case err != nil:
		return "", fmt.Errorf("no stack file Pulumi.%s.yaml in %s (%v)", stack, root, err)
	case len(stacks) == 0:
		return "", fmt.Errorf("no stack file Pulumi.%s.yaml in %s, which holds no stack file", stack, root)
	}
	return "", fmt.Errorf("no stack file Pulumi.%s.yaml in %s; its stacks: %s", stack, root, strings.Join(stacks, ", "))
}

// KubeconfigPlaceholder stands in for an undecrypted secret kubeconfig: it
// reads as kubeconfig content, so the program goes on as it would with the
// real one (which this check cannot see).
const KubeconfigPlaceholder = "apiVersion: v1\nkind: Config\n# secret value not decrypted by the offline check\n"

func placeholderFor(key string) string {
	if strings.HasSuffix(key, ":kubeconfig") {
		return KubeconfigPlaceholder
	}
	return "secret-not-decrypted"
}

// secretsDecrypter returns the stack's passphrase decrypter, or nil and why
// secrets stay undecrypted.
func secretsDecrypter(ps *workspace.ProjectStack, env func(string) string) (config.Decrypter, string) {
	if ps.EncryptionSalt == "" {
		return nil, "the stack's secrets provider is not a passphrase; not decrypted offline"
	}
	phrase := env(EnvPassphrase)
	if phrase == "" && env(EnvPassphraseFile) != "" {
		b, err := os.ReadFile(env(EnvPassphraseFile))
		if err != nil {
			return nil, "cannot read " + EnvPassphraseFile
		}
		phrase = strings.TrimRight(string(b), "\r\n")
	}
	if phrase == "" {
		return nil, "set " + EnvPassphrase + " to check its value"
	}
	d, err := passphraseDecrypter(phrase, ps.EncryptionSalt)
	if err != nil {
		return nil, err.Error()
	}
	return d, ""
}

// passphraseDecrypter checks a passphrase against a stack's encryptionsalt
// ("v1:<base64 salt>:<the word pulumi, encrypted>") as the CLI's passphrase
// secrets manager does, and returns the decrypter it derives.
func passphraseDecrypter(phrase, state string) (config.Decrypter, error) {
	version, rest, _ := strings.Cut(state, ":")
	saltText, check, ok := strings.Cut(rest, ":")
	if version != "v1" || !ok {
		return nil, errors.New("encryptionsalt is not in the passphrase provider's v1 form")
	}
	salt, err := base64.StdEncoding.DecodeString(saltText)
	if err != nil {
		return nil, fmt.Errorf("encryptionsalt: %w", err)
	}
	crypter := config.NewSymmetricCrypterFromPassphrase(phrase, salt)
	if word, err := crypter.DecryptValue(context.Background(), check); err != nil || word != "pulumi" {
		return nil, errors.New(EnvPassphrase + " does not decrypt this stack's secrets")
	}
	return crypter, nil
}

func configString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
