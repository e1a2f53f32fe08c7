package podrunner

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/platform-eng/eks-pod-identity/tests/engine/agent"
	"github.com/platform-eng/eks-pod-identity/tests/engine/kube"
)

// What EKS's Pod Identity webhook puts into a pod whose service account has
// an association (EKS user guide, pod-id-how-it-works; the same values show
// in `kubectl describe pod` on EKS).
const (
	AgentURL        = "http://169.254.170.23/v1/credentials"
	TokenVolume     = "eks-pod-identity-token"
	TokenMountPath  = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"
	TokenPath       = "eks-pod-identity-token"
	TokenFile       = TokenMountPath + "/" + TokenPath
	TokenExpiration = 86400
)

// InjectedEnv is the environment EKS adds to each container, in its order.
func InjectedEnv(region string) []EnvVar {
	return []EnvVar{
		{Name: "AWS_STS_REGIONAL_ENDPOINTS", Value: "regional"},
		{Name: "AWS_DEFAULT_REGION", Value: region},
		{Name: "AWS_REGION", Value: region},
		{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: AgentURL},
		{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Value: TokenFile},
	}
}

// PatchOp is one RFC 6902 JSON Patch operation.
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// Mutate returns the patch that injects Pod Identity into pod for a cluster
// in region: the token volume, and into every container and init container
// the environment (variables the pod sets itself are left alone) and the
// read-only mount. A pod that already has the volume is left as it is.
func Mutate(pod *Pod, region string) []PatchOp {
	mode := int32(420)
	exp := int64(TokenExpiration)
	volume := Volume{Name: TokenVolume, Projected: &Projected{DefaultMode: &mode, Sources: []ProjectedSources{{
		ServiceAccountToken: &ServiceAccountTokenProjection{Audience: agent.Audience, ExpirationSeconds: &exp, Path: TokenPath},
	}}}}
	return inject(pod, volume, InjectedEnv(region), VolumeMount{Name: TokenVolume, MountPath: TokenMountPath, ReadOnly: true})
}

// inject is the patch that adds volume to pod, and env (what the pod does
// not set itself) and mount to every container and init container; none
// when the pod has the volume already.
func inject(pod *Pod, volume Volume, env []EnvVar, mount VolumeMount) []PatchOp {
	if slices.ContainsFunc(pod.Spec.Volumes, func(v Volume) bool { return v.Name == volume.Name }) {
		return nil
	}
	var ops []PatchOp
	if len(pod.Spec.Volumes) == 0 {
		ops = append(ops, PatchOp{Op: "add", Path: "/spec/volumes", Value: []Volume{volume}})
	} else {
		ops = append(ops, PatchOp{Op: "add", Path: "/spec/volumes/-", Value: volume})
	}
	for _, list := range []struct {
		field      string
		containers []Container
	}{{"containers", pod.Spec.Containers}, {"initContainers", pod.Spec.InitContainers}} {
		for i, c := range list.containers {
			base := "/spec/" + list.field + "/" + strconv.Itoa(i)
			var add []EnvVar
			for _, e := range env {
				if !slices.ContainsFunc(c.Env, func(have EnvVar) bool { return have.Name == e.Name }) {
					add = append(add, e)
				}
			}
			switch {
			case len(add) == 0:
			case len(c.Env) == 0:
				ops = append(ops, PatchOp{Op: "add", Path: base + "/env", Value: add})
			default:
				for _, e := range add {
					ops = append(ops, PatchOp{Op: "add", Path: base + "/env/-", Value: e})
				}
			}
			if len(c.VolumeMounts) == 0 {
				ops = append(ops, PatchOp{Op: "add", Path: base + "/volumeMounts", Value: []VolumeMount{mount}})
			} else {
				ops = append(ops, PatchOp{Op: "add", Path: base + "/volumeMounts/-", Value: mount})
			}
		}
	}
	return ops
}

// Webhook serves the admission webhook.
type Webhook struct {
	Directory *agent.Directory
	Log       *log.Logger
	// Kube reads service accounts for IRSA's annotation; nil: no IRSA.
	Kube *kube.Client
}

// What EKS's webhook puts into a pod whose service account is annotated for
// IRSA and has no association (amazon-eks-pod-identity-webhook: container
// credentials take precedence, so an association wins over the annotation).
const (
	IRSAAnnotation    = "eks.amazonaws.com/role-arn"
	IRSATokenVolume   = "aws-iam-token"
	IRSATokenMount    = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
	IRSATokenFile     = IRSATokenMount + "/token"
	IRSATokenAudience = "sts.amazonaws.com"
)

// MutateIRSA returns the patch that injects IRSA's web identity into pod:
// the token volume, AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, and the
// mount, as Mutate does Pod Identity's.
func MutateIRSA(pod *Pod, roleArn string) []PatchOp {
	exp := int64(TokenExpiration)
	volume := Volume{Name: IRSATokenVolume, Projected: &Projected{Sources: []ProjectedSources{{
		ServiceAccountToken: &ServiceAccountTokenProjection{Audience: IRSATokenAudience, ExpirationSeconds: &exp, Path: "token"},
	}}}}
	env := []EnvVar{{Name: "AWS_ROLE_ARN", Value: roleArn}, {Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: IRSATokenFile}}
	return inject(pod, volume, env, VolumeMount{Name: IRSATokenVolume, MountPath: IRSATokenMount, ReadOnly: true})
}

type admissionReview struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Request    *admissionRequest  `json:"request,omitempty"`
	Response   *admissionResponse `json:"response,omitempty"`
}

type admissionRequest struct {
	UID       string          `json:"uid"`
	Operation string          `json:"operation"`
	Namespace string          `json:"namespace"`
	Object    json.RawMessage `json:"object"`
}

type admissionResponse struct {
	UID       string `json:"uid"`
	Allowed   bool   `json:"allowed"`
	PatchType string `json:"patchType,omitempty"`
	Patch     []byte `json:"patch,omitempty"`
}

func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var review admissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, "not an AdmissionReview", http.StatusBadRequest)
		return
	}
	resp := &admissionResponse{UID: review.Request.UID, Allowed: true}
	if patch, err := h.patch(r.Context(), review.Request); err != nil {
		// Admit unchanged: the pod then runs without credentials and the
		// verification says so (env), as on EKS when injection is skipped.
		h.Log.Printf("webhook: %v; pod admitted without Pod Identity", err)
	} else if len(patch) > 0 {
		b, err := json.Marshal(patch)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		resp.PatchType, resp.Patch = "JSONPatch", b
	}
	out := admissionReview{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview", Response: resp}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (h *Webhook) patch(ctx context.Context, req *admissionRequest) ([]PatchOp, error) {
	var pod Pod
	if err := json.Unmarshal(req.Object, &pod); err != nil {
		return nil, fmt.Errorf("decode pod: %w", err)
	}
	ns := pod.Metadata.Namespace
	if ns == "" {
		ns = req.Namespace
	}
	name := pod.Metadata.Name
	if name == "" {
		name = "(generated name)"
	}
	assoc, err := h.Directory.Find(ctx, ns, pod.serviceAccount())
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s: %w", ns, name, err)
	}
	if assoc == nil {
		if h.Kube == nil {
			return nil, nil
		}
		var sa struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		if err := h.Kube.Get(ctx, "/api/v1/namespaces/"+ns+"/serviceaccounts/"+pod.serviceAccount(), &sa); err != nil {
			return nil, nil // no such service account: nothing to inject
		}
		if arn := sa.Metadata.Annotations[IRSAAnnotation]; arn != "" {
			h.Log.Printf("webhook: pod %s/%s (service account %s): no association, annotated %s, injecting IRSA", ns, name, pod.serviceAccount(), arn)
			return MutateIRSA(&pod, arn), nil
		}
		return nil, nil
	}
	h.Log.Printf("webhook: pod %s/%s (service account %s): association %s in cluster %s, injecting Pod Identity (region %s)",
		ns, name, pod.serviceAccount(), assoc.ID, assoc.Cluster.Name, assoc.Cluster.Region)
	return Mutate(&pod, assoc.Cluster.Region), nil
}

// WebhookConfigName is the MutatingWebhookConfiguration the node registers.
const WebhookConfigName = "engine-eks-pod-identity"

// RegisterWebhook points the apiserver at url (https, served with a cert
// signed by caPEM) for pod creation, replacing any earlier registration.
func RegisterWebhook(ctx context.Context, kc *kube.Client, url string, caPEM []byte) error {
	const path = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
	cfg := map[string]any{
		"apiVersion": "admissionregistration.k8s.io/v1",
		"kind":       "MutatingWebhookConfiguration",
		"metadata":   map[string]any{"name": WebhookConfigName},
		"webhooks": []any{map[string]any{
			"name":                    "pod-identity.engine.eks-pod-identity.test",
			"admissionReviewVersions": []string{"v1"},
			"sideEffects":             "None",
			// Ignore: a pod the webhook could not answer for is admitted
			// without credentials, and the verification's env check names
			// that, instead of the Job failing to create pods at all.
			"failurePolicy":      "Ignore",
			"reinvocationPolicy": "Never",
			"timeoutSeconds":     10,
			"clientConfig":       map[string]any{"url": url, "caBundle": caPEM},
			"rules": []any{map[string]any{
				"apiGroups": []string{""}, "apiVersions": []string{"v1"},
				"operations": []string{"CREATE"}, "resources": []string{"pods"}, "scope": "Namespaced",
			}},
		}},
	}
	if err := kc.Delete(ctx, path+"/"+WebhookConfigName); err != nil {
		return err
	}
	return kc.Create(ctx, path, cfg, nil)
}

// ServingCert makes a throwaway CA-less self-signed certificate for
// 127.0.0.1, returning the TLS certificate and its PEM (the caBundle).
func ServingCert() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "engine-pod-identity-webhook"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return cert, certPEM, err
}
