function dropWriteScopesOnRefresh(user, context, callback) {
  if (context.protocol === 'oauth2-refresh-token') {
    context.accessToken.scope = context.accessToken.scope.filter(function (s) {
      return s.indexOf('write:') !== 0;
    });
  }
  callback(null, user, context);
}
