package loadtest

import (
	"math"
	"slices"
	"time"
)

// Latency summarises a set of durations, in milliseconds for JSON.
type Latency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"meanMs"`
	P50   float64 `json:"p50Ms"`
	P90   float64 `json:"p90Ms"`
	P99   float64 `json:"p99Ms"`
	P999  float64 `json:"p999Ms"`
	Max   float64 `json:"maxMs"`
}

// summarize sorts samples in place and returns their summary.
func summarize(samples []time.Duration) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, s := range samples {
		sum += s
	}
	return Latency{
		Count: len(samples),
		Mean:  ms(sum / time.Duration(len(samples))),
		P50:   ms(percentile(samples, 0.50)),
		P90:   ms(percentile(samples, 0.90)),
		P99:   ms(percentile(samples, 0.99)),
		P999:  ms(percentile(samples, 0.999)),
		Max:   ms(samples[len(samples)-1]),
	}
}

// percentile returns the nearest-rank q-quantile of sorted samples: the
// smallest sample that at least q of all samples do not exceed.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*1000) / 1000
}
