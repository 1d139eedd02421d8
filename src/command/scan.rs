//! The options shared by `SCAN`, `HSCAN`, `SSCAN` and `ZSCAN`: `cursor [MATCH pattern]
//! [COUNT count] [TYPE type]`.

use super::parse::Parse;
use super::{Command, CommandError};
use crate::keyspace::{ScanArgs, ValueType};

/// Parses the cursor and options; `TYPE` only for `SCAN` (`allow_type`).
pub(crate) fn parse_scan_args(
    p: &mut Parse<'_>,
    allow_type: bool,
) -> Result<ScanArgs, CommandError> {
    let cursor = p.next_bytes()?;
    let cursor = std::str::from_utf8(&cursor)
        .ok()
        .and_then(|c| c.parse::<u64>().ok())
        .ok_or(CommandError::Invalid("ERR invalid cursor"))?;
    let mut args = ScanArgs {
        cursor,
        pattern: None,
        count: 10,
        kind: None,
    };
    while let Some(option) = p.next_option() {
        match option.as_str() {
            "MATCH" if p.remaining() > 0 => {
                let pattern = p.next_bytes()?;
                // `*` matches everything: skip the matching work.
                args.pattern = (pattern.as_ref() != b"*").then_some(pattern);
            }
            "COUNT" if p.remaining() > 0 => {
                let count = p.next_int()?;
                if count < 1 {
                    return Err(CommandError::Syntax);
                }
                args.count = count as usize;
            }
            "TYPE" if allow_type && p.remaining() > 0 => {
                let name = p.next_bytes()?;
                // Redis matches an unknown type name against nothing.
                args.kind = Some(ValueType::from_name(&name).ok_or_else(|| {
                    CommandError::NotSupported(format!(
                        "ERR unknown type name '{}'",
                        String::from_utf8_lossy(&name)
                    ))
                })?);
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(args)
}

pub(crate) fn parse_scan(p: &mut Parse<'_>) -> Result<Command, CommandError> {
    Ok(Command::Scan(parse_scan_args(p, true)?))
}
