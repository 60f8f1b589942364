// Package deploy holds what runs the gateway elsewhere than `make run`:
// the container image's Containerfile (make image) beside the Dockerfile
// at the root, compose.yaml with its files in compose/, the systemd unit
// and its files in systemd/, and the Kubernetes manifests in kubernetes/,
// all described in docs/OPERATIONS.md. It has no Go code but its tests,
// which build the image and check each of these with the tools that read
// them (podman, systemd-analyze, kubectl) where they can run offline.
package deploy
