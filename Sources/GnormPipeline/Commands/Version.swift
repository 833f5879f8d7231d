/// gnorm's version, written into every OUTPUT.
public enum GnormVersion {
    public static let current = "0.1.0"
}
