package admin

import (
	"net/http"

	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"github.com/oauth-harness/oauth-harness/reference-server/faults"
)

func (h *Handler) listDefects(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.cfg.Defects.List())
}

// setDefects switches on exactly the named defects and every other one off.
func (h *Handler) setDefects(w http.ResponseWriter, r *http.Request) {
	var body struct {
		On []defects.Name `json:"on"`
	}
	if e := decode(w, r, &body); e != nil {
		writeError(w, e)
		return
	}
	if err := h.cfg.Defects.Only(body.On); err != nil {
		writeError(w, badRequest("on", "%v", err))
		return
	}
	writeJSON(w, http.StatusOK, h.cfg.Defects.List())
}

func (h *Handler) getFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.cfg.Faults.Get())
}

// setFaults replaces the faults in force.
func (h *Handler) setFaults(w http.ResponseWriter, r *http.Request) {
	var cfg faults.Config
	if e := decode(w, r, &cfg); e != nil {
		writeError(w, e)
		return
	}
	if err := h.cfg.Faults.Set(cfg); err != nil {
		writeError(w, badRequest("faults", "%v", err))
		return
	}
	writeJSON(w, http.StatusOK, h.cfg.Faults.Get())
}
