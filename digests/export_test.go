package digests

// Keys the external tests look at directly.
var KeyDone = keyDone
