// Tests share process-wide state: torch's global random generator (seeded tests), libtorch's thread
// pool and environment variables (native cache location). Running test classes in parallel made seeded
// tests flaky and, on two cores, is no faster, so every test assembly runs its tests one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
