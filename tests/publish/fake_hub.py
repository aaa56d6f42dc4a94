"""A tiny in-memory Hugging Face Hub on 127.0.0.1: just what `push_dataset` calls.

Endpoints (as huggingface_hub's HfApi calls them): repo_info
(GET /api/datasets/{repo}[/revision/{rev}]), create_repo (POST /api/repos/create),
create_branch (POST /api/datasets/{repo}/branch/{branch}), README validation
(POST /api/validate-yaml), preupload (POST .../preupload/{rev}: every file
"regular", so no LFS/Xet upload) and commit (POST .../commit/{rev}, NDJSON).
Every commit is recorded with its message, files and deletions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

TOKEN = "hf_test_token"


@dataclass
class Commit:
    message: str
    added: dict[str, bytes]
    deleted: list[str]
    oid: str


@dataclass
class Repo:
    private: bool
    branches: dict[str, dict[str, bytes]] = field(default_factory=lambda: {"main": {}})
    commits: list[tuple[str, Commit]] = field(default_factory=list)


class FakeHub:
    """``with FakeHub() as hub: HfApi(endpoint=hub.url)``; inspect ``hub.repos``."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                hub._handle(self, "GET")

            def do_POST(self) -> None:
                hub._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- helpers for tests -----------------------------------------------------------
    def add_repo(self, repo_id: str, files: dict[str, bytes]) -> None:
        """A repo someone else made."""
        self.repos[repo_id] = Repo(private=False, branches={"main": dict(files)})

    def files(self, repo_id: str, branch: str = "main") -> dict[str, bytes]:
        return self.repos[repo_id].branches[branch]

    # -- the HTTP side -------------------------------------------------------------------
    def _reply(self, h: BaseHTTPRequestHandler, status: int, body: Any, **headers: str) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            h.send_header(k.replace("_", "-"), v)
        h.end_headers()
        h.wfile.write(data)

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        path = unquote(urlparse(h.path).path)
        self.requests.append((method, path))
        if h.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._reply(h, 401, {"error": "Invalid credentials"})
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        if method == "POST" and path == "/api/validate-yaml":
            return self._validate(h, json.loads(raw))
        if method == "POST" and path == "/api/repos/create":
            body = json.loads(raw)
            repo_id = f"{body['organization']}/{body['name']}"
            if repo_id in self.repos:
                # The Hub answers a conflict with the existing repo's url, which
                # create_repo(exist_ok=True) returns.
                body = {"error": "You already created this dataset repo", "url": self._url(repo_id)}
                return self._reply(h, 409, body)
            self.repos[repo_id] = Repo(private=body.get("visibility") == "private")
            return self._reply(h, 200, {"url": self._url(repo_id)})
        m = re.fullmatch(
            r"/api/datasets/([^/]+/[^/]+)(?:/(revision|branch|preupload|commit)/(.+))?", path
        )
        if not m:
            return self._reply(h, 404, {"error": "not found"})
        repo_id, action, rev = m.group(1), m.group(2), m.group(3)
        repo = self.repos.get(repo_id)
        if repo is None:
            return self._reply(
                h, 404, {"error": "Repository not found"}, X_Error_Code="RepoNotFound"
            )
        if method == "GET" and action in (None, "revision"):
            branch = rev or "main"
            if branch not in repo.branches:
                return self._reply(
                    h, 404, {"error": "Invalid rev"}, X_Error_Code="RevisionNotFound"
                )
            return self._reply(h, 200, self._info(repo_id, repo, branch))
        if method == "POST" and action == "branch":
            if rev in repo.branches:
                return self._reply(h, 409, {"error": "branch exists"})
            repo.branches[rev] = dict(repo.branches["main"])
            return self._reply(h, 200, {})
        if method == "POST" and action == "preupload":
            files = json.loads(raw)["files"]
            out = [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
            ]
            return self._reply(h, 200, {"files": out, "commitOid": "0" * 40})
        if method == "POST" and action == "commit":
            return self._commit(h, repo_id, repo, rev, raw)
        return self._reply(h, 404, {"error": "not found"})

    def _url(self, repo_id: str) -> str:
        return f"{self.url}/datasets/{repo_id}"

    def _info(self, repo_id: str, repo: Repo, branch: str) -> dict[str, Any]:
        files = repo.branches[branch]
        card = None
        if "README.md" in files:
            text = files["README.md"].decode()
            if text.startswith("---"):
                card = yaml.safe_load(text.split("\n---", 1)[0].removeprefix("---"))
        sha = repo.commits[-1][1].oid if repo.commits else "0" * 40
        return {
            "id": repo_id,
            "sha": sha,
            "private": repo.private,
            "cardData": card,
            "siblings": [{"rfilename": f} for f in sorted(files)],
        }

    def _validate(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        text = body["content"]
        try:
            meta = yaml.safe_load(text.split("\n---", 1)[0].removeprefix("---"))
            assert isinstance(meta, dict)
        except Exception:
            return self._reply(h, 400, {"errors": [{"message": "invalid YAML"}]})
        return self._reply(h, 200, {"errors": [], "warnings": []})

    def _commit(self, h: BaseHTTPRequestHandler, repo_id: str, repo: Repo, rev: str, raw: bytes):
        if rev not in repo.branches:
            return self._reply(h, 404, {"error": "Invalid rev"}, X_Error_Code="RevisionNotFound")
        message, added, deleted = "", {}, []
        for line in raw.decode().splitlines():
            item = json.loads(line)
            if item["key"] == "header":
                message = item["value"]["summary"]
            elif item["key"] == "file":
                added[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
            elif item["key"] == "deletedFile":
                deleted.append(item["value"]["path"])
        files = repo.branches[rev]
        files.update(added)
        for path in deleted:
            files.pop(path, None)
        oid = hashlib.sha1(f"{repo_id}{len(repo.commits)}{message}".encode()).hexdigest()
        repo.commits.append((rev, Commit(message, added, deleted, oid)))
        url = f"{self.url}/datasets/{repo_id}/commit/{oid}"
        return self._reply(h, 200, {"commitUrl": url, "commitOid": oid})
