//! Redis' glob patterns (`stringmatchlen`), shared by `KEYS`/`SCAN MATCH` (case-sensitive)
//! and `COMMAND LIST FILTERBY PATTERN` (case-insensitive). A leaf: no I/O, no state.

/// Redis' glob matching (`stringmatchlen`): `*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes; `KEYS`
/// and `SCAN MATCH` are case-sensitive.
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    glob_match_case(pattern, text, false)
}

/// `glob_match`, ignoring ASCII case when `nocase` (`COMMAND LIST FILTERBY PATTERN`).
pub fn glob_match_case(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    fn inner(
        p: &[u8],
        t: &[u8],
        depth: usize,
        eq: &dyn Fn(u8, u8) -> bool,
        fold: &dyn Fn(u8) -> u8,
    ) -> bool {
        if depth > 1000 {
            return false;
        }
        let (mut pi, mut ti) = (0, 0);
        while pi < p.len() {
            match p[pi] {
                b'*' => {
                    while pi + 1 < p.len() && p[pi + 1] == b'*' {
                        pi += 1;
                    }
                    if pi + 1 == p.len() {
                        return true;
                    }
                    for start in ti..=t.len() {
                        if inner(&p[pi + 1..], &t[start..], depth + 1, eq, fold) {
                            return true;
                        }
                    }
                    return false;
                }
                b'?' => {
                    if ti >= t.len() {
                        return false;
                    }
                    ti += 1;
                }
                b'[' => {
                    if ti >= t.len() {
                        return false;
                    }
                    pi += 1;
                    let negate = pi < p.len() && p[pi] == b'^';
                    if negate {
                        pi += 1;
                    }
                    let mut matched = false;
                    loop {
                        if pi >= p.len() {
                            // Unterminated class: Redis treats the end as closing it.
                            pi -= 1;
                            break;
                        }
                        if p[pi] == b'\\' && pi + 1 < p.len() {
                            pi += 1;
                            matched |= eq(p[pi], t[ti]);
                        } else if p[pi] == b']' {
                            break;
                        } else if pi + 2 < p.len() && p[pi + 1] == b'-' {
                            let (mut lo, mut hi) = (fold(p[pi]), fold(p[pi + 2]));
                            if lo > hi {
                                std::mem::swap(&mut lo, &mut hi);
                            }
                            pi += 2;
                            matched |= fold(t[ti]) >= lo && fold(t[ti]) <= hi;
                        } else {
                            matched |= eq(p[pi], t[ti]);
                        }
                        pi += 1;
                    }
                    if matched == negate {
                        return false;
                    }
                    ti += 1;
                }
                b'\\' if pi + 1 < p.len() => {
                    pi += 1;
                    if ti >= t.len() || !eq(p[pi], t[ti]) {
                        return false;
                    }
                    ti += 1;
                }
                c => {
                    if ti >= t.len() || !eq(c, t[ti]) {
                        return false;
                    }
                    ti += 1;
                }
            }
            pi += 1;
        }
        ti == t.len()
    }
    inner(pattern, text, 0, &eq, &fold)
}

#[cfg(test)]
mod tests {
    use super::{glob_match, glob_match_case};

    #[test]
    fn glob_matches_like_redis() {
        assert!(glob_match(b"*", b"anything"));
        assert!(glob_match(b"user:*", b"user:1"));
        assert!(!glob_match(b"user:*", b"use"));
        assert!(glob_match(b"h?llo", b"hello"));
        assert!(glob_match(b"h[ae]llo", b"hallo"));
        assert!(!glob_match(b"h[^e]llo", b"hello"));
        assert!(glob_match(b"h[a-b]llo", b"hbllo"));
        assert!(glob_match(b"h\\*llo", b"h*llo"));
        assert!(!glob_match(b"h\\*llo", b"hello"));
        assert!(glob_match(b"*a*b*", b"xxaxxbxx"));
        assert!(!glob_match(b"a", b"ab"));
        assert!(!glob_match(b"GET", b"get"));
        assert!(glob_match_case(b"G[A-F]T*", b"get|x", true));
    }
}
