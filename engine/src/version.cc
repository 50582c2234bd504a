namespace udt {
// Bumped whenever the engine's numerics or saved-state layout change.
const char* engine_version() { return "0.1.0"; }
}  // namespace udt
