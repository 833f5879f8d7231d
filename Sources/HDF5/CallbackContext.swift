/// The state an HDF5 iteration builds up, passed to its C callback through the `void *`
/// context every iterating call takes (`H5Aiterate2`, `H5Literate`, `H5Lvisit`, `H5Ovisit`,
/// `H5Ewalk2`). A C callback cannot capture Swift values, so the state lives in this box,
/// which `run` keeps alive for the length of the call and the callback reaches through
/// `update` — the one place gnorm turns a context pointer back into a Swift object.
final class CallbackContext<State> {
    private var state: State

    private init(_ state: State) { self.state = state }

    /// Calls `call` with a context pointer for a box holding `initial`, and returns what the
    /// call returned with the state its callbacks left.
    static func run<Status>(_ initial: State, _ call: (UnsafeMutableRawPointer) -> Status)
        -> (status: Status, state: State)
    {
        let box = CallbackContext(initial)
        let status = withExtendedLifetime(box) { call(Unmanaged.passUnretained(box).toOpaque()) }
        return (status, box.state)
    }

    /// In a callback: applies `change` to the state behind `context` and returns 0 (go on),
    /// or -1 (stop, failing) when there is no context.
    static func update(_ context: UnsafeMutableRawPointer?, _ change: (inout State) -> Void) -> Int32 {
        guard let context else { return -1 }
        change(&Unmanaged<CallbackContext>.fromOpaque(context).takeUnretainedValue().state)
        return 0
    }
}

extension CallbackContext where State == [String] {
    /// In a callback that lists names: appends `name` to the list behind `context`; -1 (stop,
    /// failing) without one.
    static func append(_ name: UnsafePointer<CChar>?, to context: UnsafeMutableRawPointer?) -> Int32 {
        guard let name else { return -1 }
        return update(context) { $0.append(String(cString: name)) }
    }
}
