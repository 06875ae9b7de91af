package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"slices"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/subscribers"
)

// maxSubscribeBody caps a signup request's body.
const maxSubscribeBody = 16 << 10

// ThankYou is what every valid signup is told, known address or not.
const ThankYou = "Thank you for signing up for this newsletter. We've sent you a confirmation email."

// subscribedBody is the one answer to every valid JSON signup, made once so
// that it is the same byte for byte whatever the address.
var subscribedBody = mustJSON(struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}{"pending", ThankYou})

// signupJSON is the JSON form of a signup.
type signupJSON struct {
	Email       string   `json:"email"`
	Newsletters []string `json:"newsletters"`
	Name        string   `json:"name"`
	Source      string   `json:"source"`
	Website     string   `json:"website"`
}

func (s *Server) handleSubscribe(c *gin.Context) {
	ip := c.ClientIP()
	limit := subscribers.SignupLimit{Window: s.cfg.SignupLimit, Key: clientKey(ip),
		Network: s.cfg.SignupNetworkLimit, NetworkKey: networkKey(ip)}
	req, err := decodeSignup(c)
	if err != nil {
		s.failSignup(c, limit, err)
		return
	}
	req.Meta.IP, req.Meta.UserAgent = ip, c.GetHeader("User-Agent")
	if req.Meta.Source == "" {
		req.Meta.Source = c.GetHeader("Referer")
	}
	req.Limit = limit
	if err := s.cfg.Subscribers.Subscribe(c, req); err != nil {
		s.failSignup(c, limit, err)
		return
	}
	s.cfg.Metrics.CountSignup()
	if wantsHTML(c) {
		s.subscribedPage(c, req.Newsletters)
		return
	}
	c.Data(http.StatusAccepted, "application/json; charset=utf-8", subscribedBody)
}

// subscribedPage thanks a reader who signed up with a form for the
// newsletters ids, in their language.
func (s *Server) subscribedPage(c *gin.Context, ids []string) {
	lang := langOfChoices(c, s.newsletterChoices(c, ids))
	s.page(c, http.StatusOK, "subscribed", pageData{Lang: lang, Title: lang.T("page.subscribed.heading"),
		Message: lang.T("thank_you"), ValidFor: lang.Duration(s.cfg.ConfirmTTL)})
}

// decodeSignup reads a signup from a JSON or form body of bounded size.
func decodeSignup(c *gin.Context) (subscribers.SignupRequest, error) {
	if c.Request.ContentLength > maxSubscribeBody {
		return subscribers.SignupRequest{}, errBodyTooLarge
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxSubscribeBody)
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch mt {
	case "application/json":
		return decodeSignupJSON(c.Request.Body)
	case "application/x-www-form-urlencoded", "multipart/form-data":
		return decodeSignupForm(c)
	}
	return subscribers.SignupRequest{}, errUnsupportedMedia
}

// DecodeSignupJSON reads one JSON signup object from r; anything else in
// the body, or a field of the wrong type, is a bad request.
func decodeSignupJSON(r io.Reader) (subscribers.SignupRequest, error) {
	data, err := readAllJSON(r)
	if err != nil {
		return subscribers.SignupRequest{}, err
	}
	var body signupJSON
	if err := json.Unmarshal(data, &body); err != nil { // one value, and nothing after it
		return subscribers.SignupRequest{}, jsonError(err)
	}
	return subscribers.SignupRequest{Email: body.Email, Newsletters: body.Newsletters, Name: body.Name,
		Honeypot: body.Website, Meta: subscribers.RequestMeta{Source: body.Source}}, nil
}

func decodeSignupForm(c *gin.Context) (subscribers.SignupRequest, error) {
	// ParseMultipartForm drops ParseForm's error (an oversized or malformed
	// url-encoded body) when the body is not multipart, so parse it first.
	if err := c.Request.ParseForm(); err != nil {
		return subscribers.SignupRequest{}, formError(err)
	}
	if err := c.Request.ParseMultipartForm(maxSubscribeBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return subscribers.SignupRequest{}, formError(err)
	}
	f := c.Request.PostForm
	if field := ambiguousForm(f); field != "" {
		return subscribers.SignupRequest{}, duplicateFieldError(field)
	}
	nls := slices.Concat(f["newsletter"], f["newsletters"])
	return subscribers.SignupRequest{Email: submittedEmail(f.Get("email"), f.Get("suggested_email")), Newsletters: nls, Name: f.Get("name"),
		Honeypot: f.Get("website"), Meta: subscribers.RequestMeta{Source: f.Get("source")}}, nil
}

// submittedEmail is the address a sign-up form submitted: the page's
// suggested correction when the reader pressed its button
// (suggested_email), else the address field.
func submittedEmail(field, suggested string) string {
	if suggested != "" {
		return suggested
	}
	return field
}

var (
	errBodyTooLarge     = newsletter.Errorf(newsletter.EBODYTOOLARGE, "The request body is too large.")
	errUnsupportedMedia = newsletter.Errorf(newsletter.EUNSUPPORTEDMEDIA, "Send JSON (application/json) or a form (application/x-www-form-urlencoded).")
	errMalformed        = newsletter.Errorf(newsletter.EBADREQUEST, "The request body is not valid JSON of the expected shape.")
	errStalled          = newsletter.Errorf(newsletter.ESTALLED, "The request body stopped arriving before it was complete.")
)

// jsonError says what was wrong with a JSON body, naming the field when a
// value had the wrong type.
func jsonError(err error) error {
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooLarge):
		return errBodyTooLarge
	case stalled(err):
		return errStalled
	case errors.As(err, &typeErr):
		return &newsletter.Error{Code: newsletter.EBADREQUEST, Field: typeErr.Field,
			Message: "The field " + typeErr.Field + " must be a " + jsonKind(typeErr.Type.Kind().String()) + "."}
	}
	return errMalformed
}

// stalled reports whether reading a request body failed because the
// client stopped sending: the server's read deadline passed.
func stalled(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "slice":
		return "list"
	case "int", "int64":
		return "number"
	}
	return goKind
}

func formError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errBodyTooLarge
	}
	if stalled(err) {
		return errStalled
	}
	return newsletter.Errorf(newsletter.EBADREQUEST, "The form could not be read.")
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
