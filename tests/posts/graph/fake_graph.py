"""How the fake Graph API answers: the shapes of Meta's ids, paths and error bodies."""

TOKEN = "EAAGtestPAGEtoken0123456789"
VERSION = "v26.0"


def graph_error(code, message="An error", *, subcode=None, kind="OAuthException", transient=None, trace="AbC123"):
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": trace}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient is not None:
        error["is_transient"] = transient
    return {"error": error}


def path(*parts) -> str:
    return "/" + "/".join([VERSION, *parts])

PAGE = "100000000000002"
IG_USER = "17841400000000001"
