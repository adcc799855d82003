// Package corev1 holds the few constants of k8s.io/api/core/v1 that
// client-go's streaming code uses: importing that package links every
// core type's generated code into the binary (about 1.8 MB), for six
// strings.
package corev1

// The stream types and headers of exec, attach and port-forward
// (k8s.io/api/core/v1/types.go).
const (
	StreamType                 = "streamType"
	StreamTypeStdin            = "stdin"
	StreamTypeStdout           = "stdout"
	StreamTypeStderr           = "stderr"
	StreamTypeData             = "data"
	StreamTypeError            = "error"
	StreamTypeResize           = "resize"
	PortHeader                 = "port"
	PortForwardRequestIDHeader = "requestID"
)
