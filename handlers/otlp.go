package handlers

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/agents"
	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// The OTLP/HTTP receiver (§10): POST /v1/logs, /v1/metrics and /v1/traces,
// so that an agent's OTLP exporter needs only agentdeck's base URL and a
// token. Bodies are protobuf or JSON, plain or gzip; answers follow the
// OTLP/HTTP specification, so that exporters retry exactly what may succeed
// later (429 and 503, with Retry-After) and drop what never will (400, 401,
// 413, 415).

// maxOTLPBody bounds an export, after decompression. The agents we know send
// well under it (Codex's largest trace exports are about 1.3 MB).
const maxOTLPBody = 16 << 20

// otlpRetryAfter is how long an exporter is asked to wait when the store
// cannot take its export now.
const otlpRetryAfter = 5

// otlpKind is one of the three OTLP signals: how to read its export and how
// to answer it.
type otlpKind struct {
	read   func(body []byte, asJSON bool) (agents.Batch, error)
	answer func(rejected int, message string, asJSON bool) ([]byte, error)
}

var otlpLogs = otlpKind{
	read: func(body []byte, asJSON bool) (agents.Batch, error) {
		req := plogotlp.NewExportRequest()
		if err := unmarshalOTLP(req.UnmarshalJSON, req.UnmarshalProto, body, asJSON); err != nil {
			return agents.Batch{}, err
		}
		return agents.FromLogs(req.Logs()), nil
	},
	answer: func(rejected int, message string, asJSON bool) ([]byte, error) {
		resp := plogotlp.NewExportResponse()
		if rejected > 0 {
			resp.PartialSuccess().SetRejectedLogRecords(int64(rejected))
			resp.PartialSuccess().SetErrorMessage(message)
		}
		return marshalOTLP(resp.MarshalJSON, resp.MarshalProto, asJSON)
	},
}

var otlpMetrics = otlpKind{
	read: func(body []byte, asJSON bool) (agents.Batch, error) {
		req := pmetricotlp.NewExportRequest()
		if err := unmarshalOTLP(req.UnmarshalJSON, req.UnmarshalProto, body, asJSON); err != nil {
			return agents.Batch{}, err
		}
		return agents.FromMetrics(req.Metrics()), nil
	},
	answer: func(rejected int, message string, asJSON bool) ([]byte, error) {
		resp := pmetricotlp.NewExportResponse()
		if rejected > 0 {
			resp.PartialSuccess().SetRejectedDataPoints(int64(rejected))
			resp.PartialSuccess().SetErrorMessage(message)
		}
		return marshalOTLP(resp.MarshalJSON, resp.MarshalProto, asJSON)
	},
}

var otlpTraces = otlpKind{
	read: func(body []byte, asJSON bool) (agents.Batch, error) {
		req := ptraceotlp.NewExportRequest()
		if err := unmarshalOTLP(req.UnmarshalJSON, req.UnmarshalProto, body, asJSON); err != nil {
			return agents.Batch{}, err
		}
		return agents.FromTraces(req.Traces()), nil
	},
	answer: func(rejected int, message string, asJSON bool) ([]byte, error) {
		resp := ptraceotlp.NewExportResponse()
		if rejected > 0 {
			resp.PartialSuccess().SetRejectedSpans(int64(rejected))
			resp.PartialSuccess().SetErrorMessage(message)
		}
		return marshalOTLP(resp.MarshalJSON, resp.MarshalProto, asJSON)
	},
}

func unmarshalOTLP(fromJSON, fromProto func([]byte) error, body []byte, asJSON bool) error {
	if asJSON {
		return fromJSON(body)
	}
	return fromProto(body)
}

func marshalOTLP(toJSON, toProto func() ([]byte, error), asJSON bool) ([]byte, error) {
	if asJSON {
		return toJSON()
	}
	return toProto()
}

// handleOTLP receives one kind of export for the token's user.
func (s *Server) handleOTLP(kind otlpKind) echo.HandlerFunc {
	return func(c echo.Context) error {
		asJSON := otlpJSON(c.Request())
		body, err := readOTLPBody(c)
		if err != nil {
			return err
		}
		batch, err := kind.read(body, asJSON)
		if err != nil {
			return app.Errorf(app.EInvalid, "body", "the body is not an OTLP export: %v", err)
		}
		tok := c.Get(ctxToken).(*app.AccessToken)
		res, err := s.store.ReportExport(c.Request().Context(), viewerOf(c), tok.ID, batch.Reports, batch.Records, batch.Unrecognised)
		if err != nil {
			return err
		}
		out, err := kind.answer(res.Rejected, res.Problem, asJSON)
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, otlpContentType(asJSON), out)
	}
}

// otlpContentTypes checks an export's Content-Type and Content-Encoding
// before anything else, so that what cannot be read is refused with 415.
func otlpContentTypes(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || (mediaType != "application/x-protobuf" && mediaType != "application/json") {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "an OTLP export must be application/x-protobuf or application/json")
		}
		switch strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))) {
		case "", "identity", "gzip":
		default:
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "an OTLP export may be sent plain or gzip-compressed only")
		}
		return next(c)
	}
}

// otlpJSON reports whether an export is in OTLP's JSON encoding.
func otlpJSON(r *http.Request) bool {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mediaType == "application/json"
}

func otlpContentType(asJSON bool) string {
	if asJSON {
		return "application/json"
	}
	return "application/x-protobuf"
}

// readOTLPBody reads an export, decompressing it when it is gzipped; what
// it decompresses to is bounded as strictly as a plain body.
func readOTLPBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	var src io.Reader = http.MaxBytesReader(c.Response(), r.Body, maxOTLPBody)
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, otlpBodyError(err)
		}
		defer zr.Close()
		src = io.LimitReader(zr, maxOTLPBody+1)
	}
	b, err := io.ReadAll(src)
	if err != nil {
		return nil, otlpBodyError(err)
	}
	if len(b) > maxOTLPBody {
		return nil, app.Errorf(app.ETooLarge, "body", "the export is larger than %d bytes; send smaller batches", maxOTLPBody)
	}
	return b, nil
}

func otlpBodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return app.Errorf(app.ETooLarge, "body", "the export is larger than %d bytes; send smaller batches", maxOTLPBody)
	}
	return app.Errorf(app.EInvalid, "body", "the body could not be read: %v", err)
}

// otlpErrors answers a failed export as the OTLP/HTTP specification asks: a
// google.rpc.Status in the request's encoding, and the status code that
// tells the exporter whether to retry. A fault of ours is 503 with
// Retry-After, which exporters retry, not 500, which they drop.
func (s *Server) otlpErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil {
			return nil
		}
		status, message := http.StatusServiceUnavailable, "agentdeck cannot take this export now; retry later"
		var he *echo.HTTPError
		switch code := app.ErrorCode(err); {
		case errors.As(err, &he):
			status = he.Code
			message = fmt.Sprint(he.Message)
		case code != app.EInternal && statusOf[code] != 0:
			status = statusOf[code]
			field, msg := app.ErrorDetail(err)
			message = msg
			if field != "" && field != "body" {
				message += " (" + field + ")"
			}
		}
		if status >= 500 {
			s.log.Error("OTLP export failed", "path", c.Request().URL.Path, "request_id", requestID(c), "err", err)
			c.Response().Header().Set("Retry-After", strconv.Itoa(otlpRetryAfter))
		}
		return writeOTLPStatus(c, status, message)
	}
}

// writeOTLPStatus writes a google.rpc.Status body.
func writeOTLPStatus(c echo.Context, status int, message string) error {
	code := codes.Unknown
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		code = codes.InvalidArgument
	case http.StatusUnauthorized:
		code = codes.Unauthenticated
	case http.StatusForbidden:
		code = codes.PermissionDenied
	case http.StatusRequestEntityTooLarge:
		code = codes.ResourceExhausted
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		code = codes.Unavailable
	case http.StatusUnsupportedMediaType:
		code = codes.InvalidArgument
	case http.StatusNotFound:
		code = codes.NotFound
	}
	st := grpcstatus.New(code, message).Proto()
	asJSON := otlpJSON(c.Request())
	var body []byte
	var err error
	if asJSON {
		body, err = protojson.Marshal(st)
	} else {
		body, err = proto.Marshal(st)
	}
	if err != nil {
		return c.String(status, message)
	}
	return c.Blob(status, otlpContentType(asJSON), body)
}
