// Starts GraphiQL on this page: the API at the endpoint the server wrote in
// data-endpoint, with the flow's operations open in tabs. Loaded from the
// server like everything else here: the Content-Security-Policy allows no
// inline script and no other origin.
(function () {
  var root = document.getElementById('graphiql');
  var operations = [
    {
      query:
        '# 1. Create an account (once).\n' +
        'mutation Register($email: String!, $password: String!, $phone: String!) {\n' +
        '  register(input: {email: $email, password: $password, phone: $phone}) {\n' +
        '    user { id email phone phoneVerified createdAt }\n' +
        '  }\n' +
        '}\n',
      variables: '{\n  "email": "ada@example.com",\n  "password": "correct horse battery staple",\n  "phone": "+14155550123"\n}\n',
    },
    {
      query:
        '# 2. Password step: a code is sent (in development it is printed on the server\'s output).\n' +
        'mutation Login($email: String!, $password: String!) {\n' +
        '  login(input: {email: $email, password: $password}) { mfaToken channel sentTo expiresAt }\n' +
        '}\n',
      variables: '{\n  "email": "ada@example.com",\n  "password": "correct horse battery staple"\n}\n',
    },
    {
      query:
        '# 3. Code step: paste the mfaToken from Login and the code.\n' +
        'mutation Verify($mfaToken: String!, $code: String!) {\n' +
        '  verifyOtp(input: {mfaToken: $mfaToken, code: $code}) {\n' +
        '    accessToken tokenType expiresIn refreshToken refreshExpiresAt user { id email }\n' +
        '  }\n' +
        '}\n',
      variables: '{\n  "mfaToken": "<mfaToken from Login>",\n  "code": "123456"\n}\n',
    },
    {
      query:
        '# 4. Signed in: paste the accessToken from Verify into the Authorization header below.\n' +
        'query Me {\n' +
        '  me { id email phone phoneVerified createdAt }\n' +
        '  sessions { id createdAt lastUsedAt userAgent current }\n' +
        '}\n',
      headers: '{\n  "Authorization": "Bearer <accessToken from Verify>"\n}\n',
    },
  ];
  window.ReactDOM.createRoot(root).render(
    window.React.createElement(window.GraphiQL, {
      fetcher: window.GraphiQL.createFetcher({ url: root.dataset.endpoint }),
      defaultTabs: operations,
      // The first tab's variables editor reads these, not the tab's.
      variables: operations[0].variables,
      defaultEditorToolsVisibility: true,
      // Tokens typed into the headers editor stay in this page, not in
      // localStorage.
      shouldPersistHeaders: false,
    }),
  );
})();
