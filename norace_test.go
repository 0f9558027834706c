//go:build !race

package gearman_test

const raceDetector = false
