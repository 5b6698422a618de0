package httpapi

// routesAudit registers the audit log routes.
func (a *API) routesAudit() {}
