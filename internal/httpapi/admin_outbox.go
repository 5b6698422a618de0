package httpapi

// routesOutbox registers the outbox routes.
func (a *API) routesOutbox() {}
