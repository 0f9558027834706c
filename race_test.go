//go:build race

package gearman_test

// raceDetector is on: tests that only push bytes through C take fewer trials
// there, as every Go copy of a large buffer costs several times as much; the
// run without it (make test's cgocheck2 pass) takes them all.
const raceDetector = true
