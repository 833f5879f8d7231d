// CPrefetch is a header (include/CPrefetch.h); SwiftPM builds a C target from at least one source.
