// Command engine-node is TEST EQUIPMENT for the engine tier: the node-side
// stand-ins for EKS Pod Identity on the loopback cluster, in one process
// that tests/engine/run.sh starts after the cluster and moto:
//
//   - the Pod Identity admission webhook stand-in (podrunner.Webhook),
//     registered with the apiserver as a MutatingWebhookConfiguration;
//   - the EKS Pod Identity Agent + EKS Auth stand-in (agent.Agent) on a
//     loopback port;
//   - the pod runner (podrunner.Runner) for the kwok node's pods of this
//     project.
//
// It refuses an AWS endpoint that is not a loopback URL: it only ever talks
// to the local moto. When it is ready it writes the agent's and webhook's
// URLs to --ready-file; SIGTERM stops it and removes the webhook
// registration.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/platform-eng/eks-pod-identity/tests/engine/agent"
	"github.com/platform-eng/eks-pod-identity/tests/engine/kube"
	"github.com/platform-eng/eks-pod-identity/tests/engine/podrunner"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "engine-node:", err)
		os.Exit(1)
	}
}

func run() error {
	apiserver := flag.String("apiserver", "", "kube-apiserver URL")
	caFile := flag.String("ca-file", "", "apiserver CA (PEM)")
	tokenFile := flag.String("token-file", "", "admin bearer token file")
	moto := flag.String("moto", "", "moto URL (loopback)")
	node := flag.String("node", "kwok-node-0", "kwok node whose pods to run")
	workDir := flag.String("work-dir", "", "directory for pod volumes, logs and homes")
	podPath := flag.String("pod-path", "", "PATH of container processes")
	readyFile := flag.String("ready-file", "", "written with the agent and webhook URLs once serving")
	flag.Parse()
	for name, v := range map[string]string{"apiserver": *apiserver, "ca-file": *caFile, "token-file": *tokenFile,
		"moto": *moto, "work-dir": *workDir, "pod-path": *podPath} {
		if v == "" {
			return fmt.Errorf("--%s is required", name)
		}
	}
	if u, err := url.Parse(*moto); err != nil || !isLoopback(u.Hostname()) {
		return fmt.Errorf("--moto %q is not a loopback URL; this stand-in only talks to a local moto", *moto)
	}
	accessKey, secretKey := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if accessKey == "" || secretKey == "" {
		return errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the engine's moto key) are required")
	}
	logger := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	kc, err := kube.New(*apiserver, *caFile, *tokenFile)
	if err != nil {
		return err
	}
	dir := agent.NewDirectory(*moto, *apiserver, accessKey, secretKey)

	agentLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	agentURL := "http://" + agentLis.Addr().String()
	ag := &agent.Agent{Kube: kc, Directory: dir, Log: logger}
	go serve(logger, "agent", &http.Server{Handler: ag, ReadHeaderTimeout: 10 * time.Second}, agentLis)

	cert, caPEM, err := podrunner.ServingCert()
	if err != nil {
		return fmt.Errorf("webhook certificate: %w", err)
	}
	hookLis, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return err
	}
	hookURL := "https://" + hookLis.Addr().String() + "/mutate"
	hook := &podrunner.Webhook{Directory: dir, Log: logger, Kube: kc}
	go serve(logger, "webhook", &http.Server{Handler: hook, ReadHeaderTimeout: 10 * time.Second}, hookLis)
	if err := podrunner.RegisterWebhook(ctx, kc, hookURL, caPEM); err != nil {
		return fmt.Errorf("register the admission webhook: %w", err)
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := kc.Delete(c, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/"+podrunner.WebhookConfigName); err != nil {
			logger.Printf("remove webhook registration: %v", err)
		}
	}()

	if err := os.MkdirAll(*workDir, 0o755); err != nil {
		return err
	}
	runner := &podrunner.Runner{
		Kube:     kc,
		NodeName: *node,
		WorkDir:  filepath.Join(*workDir, "pods"),
		Log:      logger,
		NodeEnv:  podrunner.Node{Path: *podPath, AgentURL: agentURL, AWSEndpoint: *moto},
	}
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()

	logger.Printf("engine-node: agent %s, webhook %s, running pods labelled %s on node %s", agentURL, hookURL, podrunner.Selector, *node)
	if *readyFile != "" {
		tmp := *readyFile + ".tmp"
		if err := os.WriteFile(tmp, []byte("agent="+agentURL+"\nwebhook="+hookURL+"\n"), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, *readyFile); err != nil {
			return err
		}
	}
	<-ctx.Done()
	logger.Printf("engine-node: stopping")
	select {
	case <-done:
	case <-time.After(15 * time.Second):
	}
	return nil
}

func serve(logger *log.Logger, name string, srv *http.Server, lis net.Listener) {
	if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Printf("%s server: %v", name, err)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
