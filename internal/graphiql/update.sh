#!/usr/bin/env bash
# Refreshes assets/ from the npm registry at the pinned versions below and
# checks each package against its published integrity. Run it only to
# change a version; the assets are committed, so builds never fetch them.
set -euo pipefail
cd "$(dirname "$0")"
GRAPHIQL=3.8.3
REACT=18.3.1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
for p in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
  mkdir -p "$tmp/$p" && tar xzf "$tmp/$p.tgz" -C "$tmp/$p"
done
cp "$tmp/graphiql-$GRAPHIQL/package/graphiql.min.js" "$tmp/graphiql-$GRAPHIQL/package/graphiql.min.css" assets/
cp "$tmp/react-$REACT/package/umd/react.production.min.js" "$tmp/react-dom-$REACT/package/umd/react-dom.production.min.js" assets/
# No source maps: they would be fetched from the server, which has none.
sed -i 's|//# sourceMappingURL=.*||' assets/graphiql.min.js
sed -i 's|/\*# sourceMappingURL=.*\*/||' assets/graphiql.min.css
{
  echo "graphiql $GRAPHIQL (MIT):"; cat "$tmp/graphiql-$GRAPHIQL/package/LICENSE"; echo
  echo "react $REACT and react-dom $REACT (MIT):"; cat "$tmp/react-$REACT/package/LICENSE"
} > assets/LICENSES.txt
echo "assets updated: graphiql $GRAPHIQL, react $REACT; now change Version in graphiql.go"
