package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

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
