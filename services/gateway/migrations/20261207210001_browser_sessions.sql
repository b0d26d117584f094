-- Browser sessions (浏览器会话): a sign-in from the web console holds an
-- HttpOnly cookie instead of bearer and refresh tokens. The cookie carries
-- the session id and a secret whose SHA-256 is kept here; the CSRF token
-- the page sends back on every state-changing request is kept beside it
-- (it is worthless without the cookie). API sessions leave both NULL.
ALTER TABLE sessions
    ADD COLUMN cookie_hash bytea,
    ADD COLUMN csrf_token  text;
