// The shape every error table has, shared by the sources that define tables and the transport that uses them.
export { ErrorContext, mapThroughTables } from "./table.js";
export type { ErrorRow, ErrorTable } from "./table.js";
