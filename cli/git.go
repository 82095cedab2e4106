package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// gitPlace names the repository and branch of the git checkout that holds
// dir: the repository as "owner/name" from the origin remote's URL, the
// branch from HEAD. It reads the files git keeps rather than running git,
// so that a hook stays fast and works where git is not installed; what it
// cannot tell is "".
func gitPlace(dir string) (repo, branch string) {
	gitDir, commonDir := findGitDir(dir)
	if gitDir == "" {
		return "", ""
	}
	if head, err := os.ReadFile(filepath.Join(gitDir, "HEAD")); err == nil {
		if ref, ok := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: refs/heads/"); ok {
			branch = ref
		}
	}
	return repoName(originURL(filepath.Join(commonDir, "config"))), branch
}

// findGitDir walks up from dir to the checkout's git directory, following
// the .git file of a worktree or submodule, and returns it with the
// directory that holds the shared config.
func findGitDir(dir string) (gitDir, commonDir string) {
	if dir == "" {
		return "", ""
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", ""
	}
	for {
		dotGit := filepath.Join(dir, ".git")
		if fi, err := os.Stat(dotGit); err == nil {
			if fi.IsDir() {
				return dotGit, dotGit
			}
			b, err := os.ReadFile(dotGit)
			if err != nil {
				return "", ""
			}
			target, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: ")
			if !ok {
				return "", ""
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(dir, target)
			}
			common := target
			if c, err := os.ReadFile(filepath.Join(target, "commondir")); err == nil {
				common = strings.TrimSpace(string(c))
				if !filepath.IsAbs(common) {
					common = filepath.Join(target, common)
				}
			}
			return target, common
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ""
		}
		dir = parent
	}
}

// originURL reads the URL of the "origin" remote from a git config file.
func originURL(configPath string) string {
	f, err := os.Open(configPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	inOrigin := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			inOrigin = line == `[remote "origin"]`
			continue
		}
		if !inOrigin {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(key) == "url" {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// repoName turns a remote URL into "owner/name": the path people use to
// name a repository, without host, scheme, credentials or ".git".
// "git@github.com:acme/web.git" and "https://github.com/acme/web" are both
// "acme/web".
func repoName(url string) string {
	if url == "" {
		return ""
	}
	path := url
	if i := strings.Index(path, "://"); i >= 0 {
		path = path[i+3:]
		if j := strings.Index(path, "/"); j >= 0 {
			path = path[j+1:]
		} else {
			return ""
		}
	} else if i := strings.Index(path, ":"); i >= 0 && !strings.HasPrefix(path, "/") {
		path = path[i+1:] // scp-like: git@host:owner/name
	} else {
		return strings.TrimSuffix(filepath.Base(path), ".git") // a local path
	}
	return strings.TrimSuffix(strings.Trim(path, "/"), ".git")
}
