package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/subscribers"
)

// maxImportBody caps an import file: about a million rows.
const maxImportBody = 64 << 20

func (s *Server) handleGetSubscriber(c *gin.Context) {
	sub, err := s.cfg.Subscribers.Lookup(c, pathParam(c, "email"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sub)
}

func (s *Server) handleDeleteSubscriber(c *gin.Context) {
	if err := s.cfg.Subscribers.Erase(c, pathParam(c, "email")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// handleExportSubscriber answers a data-access request: everything held
// about one address, as a JSON download.
func (s *Server) handleExportSubscriber(c *gin.Context) {
	data, err := s.cfg.Subscribers.ExportAddress(c, pathParam(c, "email"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="subscriber.json"`)
	c.JSON(http.StatusOK, data)
}

// handleImportSubscribers imports a CSV list: text/csv with a header row.
func (s *Server) handleImportSubscribers(c *gin.Context) {
	if c.ContentType() != "text/csv" {
		s.fail(c, newsletter.Errorf(newsletter.EUNSUPPORTEDMEDIA, "Send the list as text/csv with a header row."))
		return
	}
	if c.Request.ContentLength > maxImportBody {
		s.fail(c, errBodyTooLarge)
		return
	}
	confirmed, err := strconv.ParseBool(c.DefaultQuery("confirmed", "false"))
	if err != nil {
		s.fail(c, &newsletter.Error{Code: newsletter.EBADREQUEST, Field: "confirmed", Message: "confirmed is true or false."})
		return
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxImportBody)
	res, err := s.cfg.Subscribers.Import(c, body, subscribers.ImportOptions{Newsletter: c.Query("newsletter"), Confirmed: confirmed})
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = errBodyTooLarge
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}
