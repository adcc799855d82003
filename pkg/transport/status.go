package transport

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// StatusError is an HTTP answer of 400 or more, described as kubectl does.
type StatusError struct {
	Code    int    // HTTP status code
	Reason  string // metav1.Status reason, e.g. "Forbidden"; may be empty
	Message string
}

// Error renders the line kubectl prints for the same answer
// (k8s.io/kubectl/pkg/cmd/util.StandardErrorMessage), with the server's
// control characters escaped: the line goes to a terminal.
func (e *StatusError) Error() string {
	reason, message := Printable(e.Reason), Printable(e.Message)
	switch {
	case e.Reason == "Unauthorized":
		return "error: You must be logged in to the server (" + message + ")"
	case e.Reason != "":
		return fmt.Sprintf("Error from server (%s): %s", reason, message)
	default:
		return "Error from server: " + message
	}
}

// ExitCode: 5 for the server's own errors, 4 for the request's.
func (e *StatusError) ExitCode() int {
	if e.Code >= 500 {
		return exitcode.HTTP5xx
	}
	return exitcode.HTTP4xx
}

// Printable escapes what a terminal would act on in text from elsewhere (a
// server's message, a certificate's names): C0 controls but newline and
// tab, DEL and the C1 controls become \x1b or \u009b, invalid UTF-8 U+FFFD.
// An ESC sequence can recolour, retitle or rewrite the terminal; escaped,
// it is only read.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || isControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case !isControl(r):
			b.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0)
}

// maxStatusBody bounds how much of an error body is read to describe it.
const maxStatusBody = 1 << 20

// ResponseError reads an error response and turns it into a StatusError: the
// API server's Status object when the body is one, otherwise the reason and
// message client-go gives that HTTP code.
func ResponseError(resp *http.Response) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatusBody))
	if err != nil {
		return Classify(err)
	}
	var status struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
		Reason  string `json:"reason"`
		Code    int    `json:"code"`
	}
	if json.Unmarshal(body, &status) == nil && status.Kind == "Status" && (status.Message != "" || status.Reason != "") {
		msg := status.Message
		if msg == "" {
			_, msg = genericStatus(resp.StatusCode, resp.Request, "")
		}
		return &StatusError{Code: resp.StatusCode, Reason: status.Reason, Message: msg}
	}
	reason, message := genericStatus(resp.StatusCode, resp.Request, oneLine(body, 512))
	return &StatusError{Code: resp.StatusCode, Reason: reason, Message: message}
}

// genericStatus follows apimachinery's errors.NewGenericServerResponse, which
// kubectl uses for bodies that are not a Status (a proxy's HTML page, "404
// page not found"), so kcurl prints the same line kubectl would.
func genericStatus(code int, req *http.Request, serverMessage string) (reason, message string) {
	if serverMessage == "" {
		// client-go's word for a body it cannot quote, which kubectl prints
		// instead of an empty message ("Error from server (Forbidden): ").
		serverMessage = "unknown"
	}
	message = fmt.Sprintf("the server responded with the status code %d but did not return more information", code)
	switch code {
	case http.StatusConflict:
		reason, message = "Conflict", "the server reported a conflict"
		if req != nil && req.Method == http.MethodPost {
			reason = "AlreadyExists"
		}
	case http.StatusNotFound:
		reason, message = "NotFound", "the server could not find the requested resource"
	case http.StatusBadRequest:
		reason, message = "BadRequest", "the server rejected our request for an unknown reason"
	case http.StatusUnauthorized:
		reason, message = "Unauthorized", "the server has asked for the client to provide credentials"
	case http.StatusForbidden:
		reason, message = "Forbidden", serverMessage
	case http.StatusNotAcceptable:
		reason, message = "NotAcceptable", serverMessage
		if serverMessage == "" || serverMessage == "unknown" {
			message = "the server was unable to respond with a content type that the client supports"
		}
	case http.StatusUnsupportedMediaType:
		reason, message = "UnsupportedMediaType", serverMessage
	case http.StatusMethodNotAllowed:
		reason, message = "MethodNotAllowed", "the server does not allow this method on the requested resource"
	case http.StatusUnprocessableEntity:
		reason, message = "Invalid", "the server rejected our request due to an error in our request"
	case http.StatusServiceUnavailable:
		reason, message = "ServiceUnavailable", "the server is currently unable to handle the request"
	case http.StatusGatewayTimeout:
		reason, message = "Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request"
	case http.StatusTooManyRequests:
		reason, message = "TooManyRequests", "the server has received too many requests and has asked us to try again later"
	default:
		if code >= 500 {
			reason, message = "InternalError", fmt.Sprintf("an error on the server (%q) has prevented the request from succeeding", serverMessage)
		}
	}
	return reason, message
}

// oneLine shortens a body for an error message: whitespace runs folded into
// one space, at most limit bytes.
func oneLine(body []byte, limit int) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "…"
	}
	return s
}
