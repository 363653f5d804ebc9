/** Runs once before the suite: the shared PostgreSQL must be reachable when the suite asks for it. */
export default function setup(): void {}
