package stats

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// ReadFiles decodes vegeta result files (gob, JSON or CSV: vegeta's own detection) and passes every
// result to add, as vegeta's distributed pattern merges the files of several generator hosts. When
// the files share attack names, each file's are suffixed with the file's name: a plot keeps one
// series per attack and needs each one's sequence numbers to be its own.
func ReadFiles(paths []string, add func(*vegeta.Result)) error {
	if len(paths) == 0 {
		return errors.New("no result files given")
	}
	names := map[string]int{} // attack name -> index of the first file using it
	for i, p := range paths {
		if err := readFile(p, func(r *vegeta.Result) {
			if first, ok := names[r.Attack]; !ok {
				names[r.Attack] = i
			} else if first != i {
				r.Attack += "@" + filepath.Base(p)
			}
			add(r)
		}); err != nil {
			return err
		}
	}
	return nil
}

func readFile(path string, add func(*vegeta.Result)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := vegeta.DecoderFor(bufio.NewReader(f))
	if dec == nil {
		return fmt.Errorf("%s: not a vegeta result file (gob, JSON or CSV)", path)
	}
	for n := 0; ; n++ {
		var r vegeta.Result
		switch err := dec.Decode(&r); {
		case errors.Is(err, io.EOF):
			if n == 0 {
				return fmt.Errorf("%s: no results", path)
			}
			return nil
		case err != nil:
			return fmt.Errorf("%s: result %d: %w", path, n+1, err)
		}
		add(&r)
	}
}
