/**
 * The attribute that carries a session's id on Keel's spans (HTTP requests, Temporal calls, model and Docker calls):
 * one query finds everything a session did, whichever process did it. The session id is also the Workflow ID.
 */
export const SESSION_ID_ATTRIBUTE = 'keel.session.id';

/** The attribute that carries an HTTP request's id (the `request-id` response header) on its span. */
export const REQUEST_ID_ATTRIBUTE = 'keel.request.id';

/** The name of the tracer of Keel's own spans (HTTP requests, model and Docker calls). */
export const KEEL_TRACER_NAME = 'keel';
