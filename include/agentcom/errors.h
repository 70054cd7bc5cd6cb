/* SPDX-License-Identifier: MIT
 * agentcom error codes: one enum for the server, the client library and the wire.
 * The first block maps one to one onto the wire error codes of proto/README.md;
 * the second block is internal and never appears on the wire.
 */
#ifndef AGENTCOM_ERRORS_H
#define AGENTCOM_ERRORS_H

typedef enum ac_err {
	AC_OK = 0,
	/* wire codes (proto/README.md "Errors") */
	AC_EBADREQ,     /* bad_request: not msgpack, not a map, no op */
	AC_EUNKNOWNOP,  /* unknown_op */
	AC_EINVAL,      /* invalid_argument (with field) */
	AC_ENOTFOUND,   /* not_found */
	AC_ECONFLICT,   /* conflict: transition not allowed in the current status */
	AC_ESTALE,      /* stale_generation */
	AC_EUNAUTH,     /* unauthenticated */
	AC_EPERM,       /* permission_denied */
	AC_ETOOLARGE,   /* too_large */
	AC_EUNAVAIL,    /* unavailable: shutting down, store failure */
	AC_EINTERNAL,   /* internal */
	/* internal codes */
	AC_ENOMEM,      /* allocation failed */
	AC_EFULL,       /* a bounded queue or buffer is full */
	AC_ETIMEDOUT,   /* a deadline passed */
	AC_ECLOSED,     /* the socket or actor is closed */
	AC_EPROTO,      /* a peer sent something the protocol does not allow */
	AC_EIO,         /* an I/O or store error */
	AC_ECONNREFUSED, /* nothing listens at the address */
	AC_EADDRINVAL,  /* a malformed URL or address */
	AC_ERR_COUNT
} ac_err;

/* Human-readable text for err; never NULL, static storage. Any thread. */
const char *ac_strerror(ac_err err);

/* Wire name of err ("invalid_argument"); internal codes map to "internal"
 * except AC_ENOMEM/AC_EFULL/AC_EIO/AC_ECLOSED, which map to "unavailable".
 * Static storage. Any thread. */
const char *ac_err_wire_name(ac_err err);

/* The code whose wire name is name[0..len); AC_EINTERNAL if none matches. */
ac_err ac_err_from_wire_name(const char *name, unsigned long len);

#endif
