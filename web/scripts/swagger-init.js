// Starts Swagger UI on the API's OpenAPI document (a file, not an inline script: the
// Content-Security-Policy allows scripts from this server only).
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null });
});
