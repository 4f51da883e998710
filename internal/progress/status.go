package progress

// Status is the state of one layer, as docker names them.
type Status int

// The states of a pull, then those of a push.
const (
	Waiting Status = iota
	PullingFSLayer
	Downloading
	VerifyingChecksum
	DownloadComplete
	Extracting
	PullComplete
	AlreadyExists

	Preparing
	Pushing
	Pushed
	LayerAlreadyExists
)

var statusNames = [...]string{
	Waiting:            "Waiting",
	PullingFSLayer:     "Pulling fs layer",
	Downloading:        "Downloading",
	VerifyingChecksum:  "Verifying Checksum",
	DownloadComplete:   "Download complete",
	Extracting:         "Extracting",
	PullComplete:       "Pull complete",
	AlreadyExists:      "Already exists",
	Preparing:          "Preparing",
	Pushing:            "Pushing",
	Pushed:             "Pushed",
	LayerAlreadyExists: "Layer already exists",
}

// String returns the text docker prints for the state.
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return "Unknown"
	}
	return statusNames[s]
}

// moving reports whether the state carries a bar: bytes moving, counted
// against a total.
func (s Status) moving() bool {
	return s == Downloading || s == Extracting || s == Pushing
}
