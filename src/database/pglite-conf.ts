/** PGlite's own default is 128 MB of shared buffers; a config store needs a fraction (resident memory). */
export const POSTGRESQL_CONF = "shared_buffers=8MB\nwal_buffers=256kB";
