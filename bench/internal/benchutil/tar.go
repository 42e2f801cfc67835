package benchutil

import (
	"archive/tar"
	"os"
	"time"
)

// WriteSingleFileTar writes a tar at path holding file as name, mode 0755.
func WriteSingleFileTar(path, file, name string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Now()}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
