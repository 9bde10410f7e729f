package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/catalog"
)

func isVolumePath(p string) bool {
	return strings.HasPrefix(p, "dbfs:/Volumes/") || strings.HasPrefix(p, "/Volumes/")
}

func volPath(p string) (string, error) {
	p = strings.TrimPrefix(p, "dbfs:")
	if _, err := catalog.ParseVolumePath(p); err != nil {
		return "", usageError{err}
	}
	return p, nil
}

func newFSCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "fs", Short: "Files in Unity Catalog volumes (dbfs:/Volumes/... or /Volumes/...)", Args: noArgs}
	ls := &cobra.Command{Use: "ls PATH", Short: "List a volume directory", Args: exactArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := volPath(args[0])
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var all []catalog.DirectoryEntry
			err = allPages(func(tok string) (string, error) {
				r, err := c.ListDirectory(cmd.Context(), p, catalog.Page{Token: tok})
				all = append(all, r.Contents...)
				return r.NextPageToken, err
			})
			if err != nil {
				return err
			}
			return g.emit(map[string]any{"contents": all}, func() *table {
				t := &table{header: []string{"NAME", "SIZE", "MODIFIED"}}
				for _, e := range all {
					name := e.Name
					if e.IsDirectory {
						name += "/"
					}
					t.add(name, e.FileSize, msTime(e.LastModified))
				}
				return t
			})
		}}
	var overwrite bool
	cp := &cobra.Command{Use: "cp SRC DST", Short: "Copy a file between the local disk and a volume (either direction)", Args: exactArgs(2, "SRC", "DST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, dst := args[0], args[1]
			c, err := g.client()
			if err != nil {
				return err
			}
			switch {
			case !isVolumePath(src) && isVolumePath(dst):
				p, err := volPath(dst)
				if err != nil {
					return err
				}
				if strings.HasSuffix(p, "/") {
					p += filepath.Base(src)
				}
				f, err := os.Open(src)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := c.UploadFile(cmd.Context(), p, f, overwrite); err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "Copied %s to %s\n", src, p)
			case isVolumePath(src) && !isVolumePath(dst):
				p, err := volPath(src)
				if err != nil {
					return err
				}
				if fi, err := os.Stat(dst); err == nil && fi.IsDir() {
					dst = filepath.Join(dst, filepath.Base(p))
				}
				if _, err := os.Stat(dst); err == nil && !overwrite {
					return fmt.Errorf("%s exists; pass --overwrite to replace it", dst)
				}
				rc, err := c.DownloadFile(cmd.Context(), p, "")
				if err != nil {
					return err
				}
				defer rc.Close()
				tmp, err := os.CreateTemp(filepath.Dir(dst), ".lakebox-cp-*")
				if err != nil {
					return err
				}
				defer os.Remove(tmp.Name())
				if _, err := io.Copy(tmp, rc); err != nil {
					tmp.Close()
					return err
				}
				if err := tmp.Close(); err != nil {
					return err
				}
				if err := os.Rename(tmp.Name(), dst); err != nil {
					return err
				}
				fmt.Fprintf(g.env.Stdout, "Copied %s to %s\n", p, dst)
			default:
				return usagef("cp copies between the local disk and a volume: exactly one of SRC and DST must be a dbfs:/Volumes/... path")
			}
			return nil
		}}
	cp.Flags().BoolVar(&overwrite, "overwrite", false, "replace an existing destination file")
	var recursiveDir bool
	rm := &cobra.Command{Use: "rm PATH", Short: "Delete a volume file (-d: an empty directory)", Args: exactArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := volPath(args[0])
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			if recursiveDir {
				err = c.DeleteDirectory(cmd.Context(), p)
			} else {
				err = c.DeleteFile(cmd.Context(), p)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "Deleted %s\n", p)
			return nil
		}}
	rm.Flags().BoolVarP(&recursiveDir, "dir", "d", false, "delete an empty directory")
	mkdir := &cobra.Command{Use: "mkdir PATH", Short: "Create a volume directory", Args: exactArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := volPath(args[0])
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.CreateDirectory(cmd.Context(), p); err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "Created %s\n", p)
			return nil
		}}
	cmd.AddCommand(ls, cp, rm, mkdir)
	return cmd
}
